//! Open and save with 10, 1,000 and 10,000 bots (no KDF: identity unlock), and one unlock at
//! the default KDF parameters. Targets (docs/PERFORMANCE.md): open 1,000 <= 10 ms, open
//! 10,000 <= 60 ms, save 1,000 (with fsync and read-back) <= 40 ms.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vault_core::{kdf, SetBot, Unlock, Vault, VaultFile};
use vault_tests::{new_bot, Sandbox};

fn filled(n: usize) -> (Sandbox, secrecy::SecretString) {
    let sb = Sandbox::new();
    let mut v = sb.create();
    let bots = (0..n)
        .map(|i| {
            new_bot(
                &format!("bot-{i:05}"),
                &format!("BENCHKEY-{i:012}-abcdef"),
                &format!("BENCHSECRET-{i:012}-0123456789abcdef"),
            )
        })
        .collect();
    v.add_many(bots).expect("add");
    let id = v.identity_secret().clone();
    (sb, id)
}

fn open_and_save(c: &mut Criterion) {
    let mut g = c.benchmark_group("vault");
    g.sample_size(20);
    for n in [10usize, 1_000, 10_000] {
        let (sb, id) = filled(n);
        g.bench_with_input(BenchmarkId::new("open", n), &n, |b, _| {
            b.iter(|| {
                let v = VaultFile::read(&sb.vault(), sb.opts())
                    .expect("read")
                    .unlock(Unlock::Identity(&id))
                    .expect("open");
                assert_eq!(v.bots().count(), n);
            })
        });
        let mut v = Vault::open(&sb.vault(), Unlock::Identity(&id), sb.opts()).expect("open");
        let mut i = 0u64;
        g.bench_with_input(BenchmarkId::new("save", n), &n, |b, _| {
            b.iter(|| {
                i += 1;
                v.set(
                    "bot-00000",
                    SetBot {
                        note: Some(Some(format!("note {i}"))),
                        ..SetBot::default()
                    },
                )
                .expect("save")
            })
        });
    }
    g.finish();
}

fn unlock_default_kdf(c: &mut Criterion) {
    let mut g = c.benchmark_group("kdf");
    g.sample_size(10);
    let salt = [7u8; 16];
    g.bench_function("argon2id_default_256MiB_t3_p4", |b| {
        b.iter(|| {
            kdf::DEFAULT
                .derive(b"correct horse battery staple", &salt)
                .expect("derive")
        })
    });
    g.finish();
}

criterion_group!(benches, open_and_save, unlock_default_kdf);
criterion_main!(benches);
