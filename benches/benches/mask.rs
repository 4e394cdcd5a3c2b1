//! Masking throughput of the streaming matcher on plain text with a few secrets.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use vault_core::mask;

fn masking(c: &mut Criterion) {
    let line = b"2026-11-25 08:46:02,002 - freqtrade.worker - INFO - Bot heartbeat. PID=1234, version='2026.9', state='RUNNING'\n";
    let data: Vec<u8> = line.iter().copied().cycle().take(8 * 1024 * 1024).collect();
    let secrets = [
        "BENCHKEY-000000000001-abcdef",
        "BENCHSECRET-000000000001-0123456789abcdef",
        "TELEGRAM-000000001:AAAA",
    ];
    // A Binance-shaped bot: the key and secret of Binance's published signing example
    // (shared/reference/exchanges.md), and the example token of Telegram's bot docs.
    let binance = [
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    ];
    let mut g = c.benchmark_group("mask");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    g.bench_function("8MiB_log_3_secrets", |b| {
        b.iter(|| {
            let mut m = mask::Masker::new(&secrets, "bot");
            let mut out = Vec::with_capacity(data.len());
            for chunk in data.chunks(64 * 1024) {
                m.feed(chunk, &mut out);
            }
            m.finish(&mut out);
            out.len()
        })
    });
    // What `vault run` does: 1 MiB reads, clean pieces handed on without a copy.
    g.bench_function("8MiB_log_binance_bot_in_place", |b| {
        let mut m = mask::Masker::new(&binance, "bot");
        b.iter(|| {
            let mut n = 0;
            for chunk in data.chunks(1 << 20) {
                m.feed_with(chunk, &mut |p| n += p.len());
            }
            m.finish_with(&mut |p| n += p.len());
            n
        })
    });
    // Base64 text (a certificate bundle, a blob in a JSON log): every byte is a base64
    // character, so any prefilter keyed on the patterns' first bytes fires constantly.
    let b64 = base64_text(8 * 1024 * 1024);
    g.bench_function("8MiB_base64_binance_bot_in_place", |b| {
        let mut m = mask::Masker::new(&binance, "bot");
        b.iter(|| {
            let mut n = 0;
            for chunk in b64.chunks(1 << 20) {
                m.feed_with(chunk, &mut |p| n += p.len());
            }
            m.finish_with(&mut |p| n += p.len());
            n
        })
    });
    // A bot with more than 64 masked forms (12 secrets with punctuation): two Teddy searchers.
    let many: Vec<String> = (0..12)
        .map(|i| format!("s3cr/t+{i:02}=value!padding-0123456789"))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    for (name, text) in [("log", &data), ("base64", &b64)] {
        g.bench_function(format!("8MiB_{name}_12_secrets_in_place"), |b| {
            let mut m = mask::Masker::new(&many, "bot");
            b.iter(|| {
                let mut n = 0;
                for chunk in text.chunks(1 << 20) {
                    m.feed_with(chunk, &mut |p| n += p.len());
                }
                m.finish_with(&mut |p| n += p.len());
                n
            })
        });
    }
    g.finish();
}

/// `len` bytes of base64 in 76-character lines, of a fixed pseudo-random byte stream.
fn base64_text(len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        for _ in 0..76 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(ALPHABET[(x % 64) as usize]);
        }
        out.push(b'\n');
    }
    out.truncate(len);
    out
}

criterion_group!(benches, masking);
criterion_main!(benches);
