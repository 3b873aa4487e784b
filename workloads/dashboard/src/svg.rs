//! Charts drawn on the server as inline SVG: nothing to download at run time (users are on a VPN) and
//! nothing to install in the browser. Each mark carries `data-label` and `data-value`, for tests and
//! for screen readers via `<title>`.

use std::fmt::Write;

/// Escapes text for HTML and SVG content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const PALETTE: [&str; 10] = [
    "#2f6fde", "#e8833a", "#3aa76d", "#c94c4c", "#8a63d2", "#c9a227", "#2aa3b8", "#d46aa8",
    "#6b7a8f", "#7fb13d",
];

/// `1234567.8` -> `1 234 568` (French grouping, no decimals).
pub fn grouped(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Horizontal bars, one per (label, value), largest scale first.
pub fn bars(id: &str, items: &[(String, f64)]) -> String {
    let (w, row, left) = (640.0, 28.0, 170.0);
    let h = row * items.len().max(1) as f64 + 10.0;
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1e-9);
    let mut s = format!(
        r#"<svg id="{id}" class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{id}">"#
    );
    for (k, (label, v)) in items.iter().enumerate() {
        let y = 5.0 + k as f64 * row;
        let bw = (w - left - 90.0) * v / max;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" class="lbl">{}</text><rect class="mark" x="{left}" y="{}" width="{bw:.1}" height="{}" fill="{}" data-label="{}" data-value="{v}"><title>{}: {}</title></rect><text x="{}" y="{}" class="val">{}</text>"#,
            left - 6.0,
            y + row * 0.62,
            esc(label),
            y + 3.0,
            row - 8.0,
            PALETTE[0],
            esc(label),
            esc(label),
            grouped(*v),
            left + bw + 6.0,
            y + row * 0.62,
            grouped(*v),
        );
    }
    s.push_str("</svg>");
    s
}

/// A line over labelled points (e.g. months), with an optional dashed continuation (a forecast).
pub fn line(id: &str, points: &[(String, f64)]) -> String {
    let (w, h, pad) = (640.0, 260.0, 48.0);
    let max = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-9);
    let n = points.len().max(2) as f64 - 1.0;
    let x = |k: usize| pad + (w - 2.0 * pad) * k as f64 / n;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / max;
    let mut s = format!(
        r#"<svg id="{id}" class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{id}">"#
    );
    let _ = write!(
        s,
        r#"<line x1="{pad}" y1="{}" x2="{}" y2="{}" class="axis"/><text x="4" y="{}" class="val">{}</text>"#,
        h - pad,
        w - pad,
        h - pad,
        pad - 6.0,
        grouped(max)
    );
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(k, p)| format!("{:.1},{:.1}", x(k), y(p.1)))
        .collect();
    let _ = write!(
        s,
        r#"<polyline fill="none" stroke="{}" stroke-width="2.5" points="{}"/>"#,
        PALETTE[0],
        path.join(" ")
    );
    for (k, (label, v)) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<circle class="mark" cx="{:.1}" cy="{:.1}" r="4" fill="{}" data-label="{}" data-value="{v}"><title>{}: {}</title></circle>"#,
            x(k),
            y(*v),
            PALETTE[0],
            esc(label),
            esc(label),
            grouped(*v)
        );
        if points.len() <= 13 || k % 3 == 0 {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" class="lbl">{}</text>"#,
                x(k),
                h - pad + 18.0,
                esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A pie of (label, value); values of zero are left out.
pub fn pie(id: &str, items: &[(String, f64)]) -> String {
    let (cx, cy, r) = (130.0, 130.0, 120.0);
    let total: f64 = items.iter().map(|i| i.1.max(0.0)).sum();
    let mut s = format!(
        r#"<svg id="{id}" class="chart" viewBox="0 0 560 270" role="img" aria-label="{id}">"#
    );
    let mut angle = -std::f64::consts::FRAC_PI_2;
    let shown: Vec<&(String, f64)> = items.iter().filter(|i| i.1 > 0.0).collect();
    for (k, (label, v)) in shown.iter().enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let frac = v / total;
        let end = angle + frac * std::f64::consts::TAU;
        let mark = if shown.len() == 1 {
            format!(r#"<circle cx="{cx}" cy="{cy}" r="{r}" fill="{color}""#)
        } else {
            let (x1, y1) = (cx + r * angle.cos(), cy + r * angle.sin());
            let (x2, y2) = (cx + r * end.cos(), cy + r * end.sin());
            let large = if frac > 0.5 { 1 } else { 0 };
            format!(
                r#"<path d="M{cx},{cy} L{x1:.2},{y1:.2} A{r},{r} 0 {large} 1 {x2:.2},{y2:.2} Z" fill="{color}""#
            )
        };
        let _ = write!(
            s,
            r#"{mark} class="mark" data-label="{}" data-value="{v}"><title>{}: {v}</title></{}>"#,
            esc(label),
            esc(label),
            if shown.len() == 1 { "circle" } else { "path" }
        );
        if k < 12 {
            let _ = write!(
                s,
                r#"<rect x="290" y="{}" width="12" height="12" fill="{color}"/><text x="308" y="{}" class="lbl">{} ({v})</text>"#,
                12.0 + k as f64 * 20.0,
                22.0 + k as f64 * 20.0,
                esc(label)
            );
        }
        angle = end;
    }
    if shown.len() > 12 {
        let _ = write!(
            s,
            r#"<text x="308" y="262" class="lbl">… {} autres</text>"#,
            shown.len() - 12
        );
    }
    s.push_str("</svg>");
    s
}

/// A half-circle gauge from 0 to 100 %, red outside [low, high].
pub fn gauge(id: &str, percent: f64, low: f64, high: f64) -> String {
    let p = percent.clamp(0.0, 100.0);
    let (cx, cy, r) = (150.0, 140.0, 110.0);
    let at = |q: f64| {
        let a = std::f64::consts::PI * (1.0 - q / 100.0);
        (cx + r * a.cos(), cy - r * a.sin())
    };
    let (x0, y0) = at(0.0);
    let (x1, y1) = at(p);
    let color = if p < low || p > high {
        "#c94c4c"
    } else {
        "#3aa76d"
    };
    format!(
        r##"<svg id="{id}" class="chart" viewBox="0 0 300 170" role="img" aria-label="{id}"><path d="M{x0},{y0} A{r},{r} 0 0 1 {:.2},{:.2}" stroke="#dde3ea" stroke-width="22" fill="none"/><path class="mark" data-label="taux" data-value="{percent}" d="M{x0},{y0} A{r},{r} 0 0 1 {x1:.2},{y1:.2}" stroke="{color}" stroke-width="22" fill="none"><title>{percent} %</title></path><text x="{cx}" y="{}" text-anchor="middle" class="big">{percent:.1} %</text></svg>"##,
        at(100.0).0,
        at(100.0).1,
        cy - 10.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(svg: &str) -> usize {
        svg.matches("class=\"mark\"").count()
    }

    #[test]
    fn every_value_is_a_mark_with_escaped_labels() {
        let items = vec![("<Dupont & fils>".to_string(), 4500.0), ("B".into(), 10.0)];
        let b = bars("top", &items);
        assert_eq!(marks(&b), 2);
        assert!(b.contains("&lt;Dupont &amp; fils&gt;") && !b.contains("<Dupont"));
        assert!(b.contains(r#"data-value="4500""#));
        assert_eq!(marks(&line("m", &items)), 2);
        assert_eq!(marks(&pie("p", &items)), 2);
        assert_eq!(marks(&pie("p", &items[..1])), 1);
        assert_eq!(marks(&pie("p", &[("z".into(), 0.0)])), 0);
        assert_eq!(marks(&gauge("g", 72.5, 60.0, 90.0)), 1);
        assert!(gauge("g", 50.0, 60.0, 90.0).contains("#c94c4c"));
        assert!(gauge("g", 75.0, 60.0, 90.0).contains("#3aa76d"));
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(1234567.8), "1\u{202f}234\u{202f}568");
        assert_eq!(grouped(-999.0), "-999");
        assert_eq!(grouped(0.0), "0");
    }
}
