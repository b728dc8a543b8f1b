//! `natter-chat`: end-to-end encrypted natter chats from a terminal. The
//! program is `natter_client::mls::cli` (see there, or `natter-chat
//! --help`); this file only runs it.

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let result = natter_client::mls::cli::run(std::env::args_os(), &mut out).await;
    if let Err(error) = &result
        && let Some(usage) = error.downcast_ref::<clap::Error>()
    {
        usage.exit();
    }
    result
}
