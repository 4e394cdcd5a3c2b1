//! One Argon2id derivation through vault-core, for timing beside the reference `argon2` CLI:
//! `echo -n PASSPHRASE | kdf_once SALT MEMORY_KIB ITERATIONS LANES`.

use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize| {
        args.get(i)
            .and_then(|s| s.parse::<u32>().ok())
            .expect("usage: kdf_once SALT MEMORY_KIB ITERATIONS LANES")
    };
    let params = vault_core::KdfParams {
        memory_kib: num(2),
        iterations: num(3),
        lanes: num(4),
    };
    let mut pass = Vec::new();
    std::io::stdin().read_to_end(&mut pass).expect("stdin");
    let key = params.derive(&pass, args[1].as_bytes()).expect("derive");
    println!(
        "{}",
        key.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
}
