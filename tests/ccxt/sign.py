"""ccxt's own sign() for the request `vault verify` makes on each exchange.

Reads {key, secret, passphrase, kraken_secret, coinbase_key, coinbase_pem, now_ms,
ours_coinbase_jwt} as JSON on stdin and prints, per exchange, what ccxt would send:
{url, method, body, headers}. The clock and nonce are pinned to now_ms so the HMAC signatures
are comparable byte for byte. Coinbase's ES256 JWT has a random nonce and a random ECDSA k,
so for it we print both JWTs' decoded header and claims and whether each verifies under the
key's public half (with `cryptography`, which freqtrade installs).
"""
import base64
import json
import sys

import ccxt

inp = json.load(sys.stdin)
T = inp["now_ms"]


def make(cls, **kw):
    cfg = {"apiKey": inp["key"], "secret": inp["secret"], "password": inp["passphrase"]}
    cfg.update(kw)
    ex = getattr(ccxt, cls)(cfg)
    ex.milliseconds = lambda: T
    ex.seconds = lambda: T // 1000
    ex.nonce = lambda: T
    return ex


# (ccxt class, extra config, ccxt path, ccxt api, method): the endpoint vault verify asks.
CASES = {
    "binance": ("binance", {"options": {"recvWindow": 10000}}, "account/apiRestrictions", ["sapi"], "GET"),
    "bybit": ("bybit", {}, "v5/user/query-api", ["private"], "GET"),
    "okx": ("okx", {}, "account/config", ["private"], "GET"),
    "kucoin": ("kucoin", {}, "user/api-key", ["private"], "GET"),
    "kraken": ("kraken", {"secret": inp["kraken_secret"]}, "GetApiKeyInfo", ["private"], "POST"),
    "bitget": ("bitget", {}, "v2/spot/account/info", ["private", "spot"], "GET"),
    "gate": ("gate", {}, "detail", ["private", "account"], "GET"),
    "bitfinex": ("bitfinex", {}, "auth/r/permissions", ["private"], "POST"),
}

out = {}
for name, (cls, kw, path, api, method) in CASES.items():
    r = make(cls, **kw).sign(path, api, method, {})
    out[name] = {
        "url": r["url"],
        "method": r["method"],
        "body": r["body"] or "",
        "headers": r["headers"] or {},
    }


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def decode(jwt):
    h, c, s = jwt.split(".")
    return json.loads(b64url(h)), json.loads(b64url(c)), f"{h}.{c}".encode(), b64url(s)


def verifies(jwt, pem):
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    _, _, signed, sig = decode(jwt)
    pub = serialization.load_pem_private_key(pem.encode(), password=None).public_key()
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        pub.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


cb = make("coinbase", apiKey=inp["coinbase_key"], secret=inp["coinbase_pem"])
r = cb.sign("brokerage/key_permissions", ["v3", "private"], "GET", {})
ccxt_jwt = r["headers"]["Authorization"].split(" ", 1)[1]
ours = inp["ours_coinbase_jwt"]
out["coinbase"] = {
    "url": r["url"],
    "method": r["method"],
    "ccxt": {"header": decode(ccxt_jwt)[0], "claims": decode(ccxt_jwt)[1], "verifies": verifies(ccxt_jwt, inp["coinbase_pem"])},
    "ours": {"header": decode(ours)[0], "claims": decode(ours)[1], "verifies": verifies(ours, inp["coinbase_pem"])},
    "ccxt_version": ccxt.__version__,
}
json.dump(out, sys.stdout)
