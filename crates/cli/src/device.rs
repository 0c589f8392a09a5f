//! Placeholder until the owning library lands (replaced by its helper).

#[derive(clap::Subcommand)]
pub enum Command {
    /// Pinched hysteresis loop under a sine.
    Iv,
}

pub fn run(_cmd: Command) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
