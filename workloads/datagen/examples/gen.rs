//! `cargo run -p ff-datagen --example gen -- OUT_DIR [SEED] [INVOICES]`: generate a data set and the sample.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: gen OUT_DIR [SEED] [INVOICES]")?);
    let mut cfg = ff_datagen::GenConfig::default();
    if let Some(seed) = args.next() {
        cfg.seed = seed.parse()?;
    }
    if let Some(n) = args.next() {
        cfg.invoices = n.parse()?;
    }
    let m = ff_datagen::generate(&cfg, &out)?;
    ff_datagen::write_sample(&out)?;
    println!("{}", serde_json::to_string_pretty(&m.expected)?);
    Ok(())
}
