/**
 * Type check of observability/grafana/dashboards/*.json against the types Grafana publishes in
 * @grafana/schema (version pinned in package.json). Run by scripts/check-grafana.sh.
 *
 * `const d: Dashboard = json` can never compile: a JSON import widens every string to `string`, and the
 * schema types many fields as string enums (ThresholdsMode, FieldColorModeId, MappingType, ...) that no
 * plain `string` is assignable to. So both checks below use types derived mechanically from the
 * schema's `Dashboard` (DashboardJson: enums replaced by their values, panels given their plugin's own
 * options type), and nothing is hand-copied from Grafana:
 *
 * 1. Here, each JSON file is imported and assigned to a variable of type `Imported<DashboardJson>`,
 *    the schema with its enums and literals widened exactly as the import widens them. Everything else
 *    keeps its type: a number written as a string, a missing required field or an object where an
 *    array belongs fails. This part needs nothing but `tsc`.
 * 2. scripts/check-grafana.sh first writes generated/<name>.ts: the JSON text verbatim, on the same
 *    lines, as `export default <json> satisfies DashboardJson`. An object literal keeps its literal
 *    values and gets excess-property checks, so a wrong enum value, an unknown panel type, a data source
 *    other than the warehouse or a misspelt key fails as well, reported at the line of the .json file.
 */
import type {
  DataQuery,
  Dashboard,
  FieldConfig,
  FieldConfigSource,
  Panel,
  RowPanel,
  VariableModel,
} from '@grafana/schema';
import type {
  FieldConfig as BarChartFieldConfig,
  Options as BarChartOptions,
} from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type { Options as GaugeOptions } from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type {
  FieldConfig as PieChartFieldConfig,
  Options as PieChartOptions,
} from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type {
  FieldConfig as TableFieldConfig,
  Options as TableOptions,
} from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

import financierJson from '../dashboards/financier.json';
import ressourcesJson from '../dashboards/ressources.json';
import tempsReelJson from '../dashboards/temps-reel.json';

/** Every panel, query and variable reads the warehouse, so the web app, Grafana and Power BI agree. */
type WarehouseRef = { type: 'grafana-postgresql-datasource'; uid: 'freelanceflow-warehouse' };

/** A raw-SQL query of Grafana's SQL data sources (the plugin's own type; @grafana/schema has none). */
interface WarehouseQuery extends DataQuery {
  datasource: WarehouseRef;
  editorMode: 'code';
  rawQuery: true;
  format: 'table' | 'time_series';
  rawSql: string;
}

/**
 * A panel of one visualization, with that plugin's options and field config. Options are Partial:
 * Grafana fills the ones left out with the plugin's defaults; those given must be well typed.
 */
type VizPanel<Type extends string, Options, Custom = never> = Omit<
  Panel,
  'type' | 'datasource' | 'targets' | 'options' | 'fieldConfig'
> & {
  type: Type;
  datasource: WarehouseRef;
  targets: WarehouseQuery[];
  options?: Partial<Options>;
  fieldConfig: Omit<FieldConfigSource, 'defaults'> & {
    defaults: Omit<FieldConfig, 'custom'> & { custom?: Partial<Custom> };
  };
};

/** The visualizations the dashboards use; another one must be added here to be accepted. */
type DashboardPanel =
  | VizPanel<'stat', StatOptions>
  | VizPanel<'gauge', GaugeOptions>
  | VizPanel<'piechart', PieChartOptions, PieChartFieldConfig>
  | VizPanel<'barchart', BarChartOptions, BarChartFieldConfig>
  | VizPanel<'timeseries', TimeSeriesOptions, TimeSeriesFieldConfig>
  | VizPanel<'table', TableOptions, TableFieldConfig>;

type DashboardRow = Omit<RowPanel, 'panels'> & { panels: DashboardPanel[] };

type SchemaDashboard = Omit<Dashboard, 'uid' | 'title' | 'panels' | 'templating'> & {
  // provisioning and links rely on stable uids
  uid: string;
  title: string;
  panels: Array<DashboardPanel | DashboardRow>;
  templating: { list: Array<Omit<VariableModel, 'datasource'> & { datasource?: WarehouseRef }> };
};

/** The schema as JSON spells it: a string enum becomes the union of its values. */
type Json<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

/** What a JSON import gives for a value of type T: every literal widened to its primitive. */
type Imported<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends null | undefined
        ? T
        : T extends ReadonlyArray<infer U>
          ? Array<Imported<U>>
          : T extends object
            ? { [K in keyof T]: Imported<T[K]> }
            : T;

export type DashboardJson = Json<SchemaDashboard>;

export const financier: Imported<DashboardJson> = financierJson;
export const ressources: Imported<DashboardJson> = ressourcesJson;
export const tempsReel: Imported<DashboardJson> = tempsReelJson;
