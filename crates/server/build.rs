//! Builds the web client's MLS library: `web-vendor/` names ts-mls (and
//! esbuild) at exact versions with a lockfile; this script copies those
//! files into `OUT_DIR`, runs `npm ci` there and bundles the entry module
//! into one ES module, `OUT_DIR/ts-mls.js`, which `src/http/web.rs` embeds
//! and serves as `/assets/vendor/ts-mls.js`. Nothing fetched lands in the
//! source tree.
//!
//! It never fails the build: without node/npm, or offline, it writes an
//! empty bundle and prints one warning, and the client then says that
//! encrypted chats are not available in this build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of `web-vendor/` that make the bundle: a change to any of
/// them (and only them) runs this script again.
const VENDOR_FILES: &[&str] = &["package.json", "package-lock.json", "entry.js"];

/// ts-mls's optional peer dependencies, for ciphersuites natter does not
/// use; left as (never taken) dynamic imports rather than bundled.
const OPTIONAL_PEERS: &[&str] = &[
    "@noble/*",
    "@hpke/chacha20poly1305",
    "@hpke/ml-kem",
    "@hpke/hybridkem-x-wing",
    "@hpke/dhkem-x448",
    "crypto",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let vendor = manifest.join("web-vendor");
    for file in VENDOR_FILES {
        println!("cargo:rerun-if-changed={}", vendor.join(file).display());
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let bundle = out.join("ts-mls.js");
    if let Err(reason) = build(&vendor, &out.join("web-vendor"), &bundle) {
        println!(
            "cargo:warning=ts-mls could not be fetched or bundled ({reason}); \
             the web client's encrypted chats are unavailable in this build"
        );
        std::fs::write(&bundle, b"").expect("OUT_DIR is writable");
        // A path that never exists: cargo runs this script again on the
        // next build, so one offline build does not leave every later
        // one without the library.
        println!(
            "cargo:rerun-if-changed={}",
            out.join("fetch-again").display()
        );
    }
}

/// Copies the vendor files to `work`, installs exactly the locked
/// packages and bundles `entry.js` to `bundle`.
fn build(vendor: &Path, work: &Path, bundle: &Path) -> Result<(), String> {
    std::fs::create_dir_all(work).map_err(|error| error.to_string())?;
    for file in VENDOR_FILES {
        std::fs::copy(vendor.join(file), work.join(file))
            .map_err(|error| format!("copying {file}: {error}"))?;
    }
    run(
        Command::new("npm")
            // Offline should not hold a build for long: one retry, 30 s each.
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .args(["--fetch-retries=1", "--fetch-timeout=30000"])
            .current_dir(work),
        "npm ci",
    )?;
    // A native binary once esbuild's install script ran, a node script
    // (with its `#!`) otherwise: started directly either way.
    let mut esbuild = Command::new(work.join("node_modules/.bin/esbuild"));
    esbuild
        .args([
            "entry.js",
            "--bundle",
            "--format=esm",
            "--minify",
            "--log-level=error",
        ])
        .arg(format!("--outfile={}", bundle.display()))
        .current_dir(work);
    for peer in OPTIONAL_PEERS {
        esbuild.arg(format!("--external:{peer}"));
    }
    run(&mut esbuild, "esbuild")?;
    match std::fs::metadata(bundle) {
        Ok(meta) if meta.len() > 0 => Ok(()),
        _ => Err("esbuild wrote no bundle".to_owned()),
    }
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|error| format!("{what} could not start: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    // npm's first error line says what went wrong (its last, where the
    // log is); other tools end with their message.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut lines = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let reason = lines
        .clone()
        .find(|line| line.contains("error"))
        .or_else(|| lines.next_back());
    Err(format!("{what} failed: {}", reason.unwrap_or("no message")))
}
