//! Makes a vault with N Binance-shaped bots for benches/run.sh (`grow`): one write of all of
//! them, then the identity exported so the timed commands unlock without a KDF.
//!
//! `fill_vault VAULT STATE_DIR N IDENTITY_OUT`

use secrecy::SecretString;
use vault_core::{kdf, OpenOptions, Scope, Vault, Withdrawals};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, state, n, id_out] = args.as_slice() else {
        eprintln!("usage: fill_vault VAULT STATE_DIR N IDENTITY_OUT");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N");
    let opts = OpenOptions::new(state);
    let params = kdf::KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        lanes: 1,
    };
    let pass = SecretString::from("correct horse battery staple orbit".to_string());
    let mut v = Vault::create(path.as_ref(), &pass, params, opts).expect("create");
    let bots = (0..n)
        .map(|i| {
            let mut b = vault_tests::new_bot(
                &format!("bot-{i:05}"),
                &format!("{i:08}mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju9"),
                &format!("{i:08}mdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6"),
            );
            b.scope = Scope {
                withdrawals: Withdrawals::Disabled,
                ip_allowlist: vec!["203.0.113.7".into()],
                sub_account: None,
            };
            b
        })
        .collect();
    v.add_many(bots).expect("add");
    let mut f = std::fs::OpenOptions::new();
    f.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
    use std::io::Write;
    let mut file = f.open(id_out).expect("identity file");
    writeln!(
        file,
        "{}",
        secrecy::ExposeSecret::expose_secret(v.identity_secret())
    )
    .expect("write");
}
