//! Writes the CRD YAML from the Rust types: `crds/yaml/<plural>.yaml` (for `kubectl apply`) and the
//! chart's templates `charts/freelanceflow/templates/crds/<plural>.yaml` (gated by `crds.create`, so that
//! `helm upgrade` updates them). `--check` compares instead of writing and fails when a file is stale.

use std::{path::PathBuf, process::ExitCode};

fn main() -> anyhow::Result<ExitCode> {
    let check = std::env::args().any(|a| a == "--check");
    if std::env::args().any(|a| a == "--help" || a == "-h") {
        println!("usage: crdgen [--check]\n\nWrites crds/yaml/*.yaml and charts/freelanceflow/templates/crds/*.yaml from crds/src;\n--check only reports the files that differ (exit 1).");
        return Ok(ExitCode::SUCCESS);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crds/ is in the repository")
        .to_path_buf();
    let stale = ff_crds::generated_files()?
        .into_iter()
        .filter_map(|(path, text)| {
            let path = root.join(path);
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            (current != text).then_some((path, text))
        })
        .collect::<Vec<_>>();
    for (path, text) in &stale {
        if check {
            eprintln!("stale: {}", path.display());
        } else {
            std::fs::create_dir_all(path.parent().expect("a file path"))?;
            std::fs::write(path, text)?;
            println!("wrote {}", path.display());
        }
    }
    if check && !stale.is_empty() {
        eprintln!("run `cargo run -p ff-crds --bin crdgen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
