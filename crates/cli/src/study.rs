//! Placeholder until the owning library lands (replaced by its helper).

#[derive(clap::Args)]
pub struct Args {}

#[derive(clap::Args)]
pub struct MergeArgs {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}

pub fn merge(_args: MergeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
