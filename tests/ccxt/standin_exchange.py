"""A local stand-in for Binance (spot), Bybit v5 and OKX v5 that knows only the *real*
credentials and checks every private request's signature as each exchange documents it
(written from the exchanges' API docs, not from vault's code or ccxt's):

- Binance: HMAC-SHA256 hex of totalParams, the query string concatenated with the body,
  without `signature`; the key in X-MBX-APIKEY.
  https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type
- Bybit v5: HMAC-SHA256 hex of timestamp + api_key + recv_window + (queryString | jsonBody).
  https://bybit-exchange.github.io/docs/v5/guide#create-a-request
- KuCoin: base64 HMAC-SHA256 of timestamp + method + endpoint (with ?query) + body; with
  KC-API-KEY-VERSION 2 the passphrase is base64 HMAC-SHA256(secret, passphrase).
  https://www.kucoin.com/docs-new/authentication
- Bitget v2: base64 HMAC-SHA256 of timestamp + method + requestPath + ?queryString + body.
  https://www.bitget.com/api-doc/common/signature
- Bitfinex v2: hex HMAC-SHA384 of "/api" + path + nonce + body.
  https://docs.bitfinex.com/docs/rest-auth
- Kraken: base64 HMAC-SHA512 (key: the base64-decoded secret) of path + SHA-256(nonce + body).
  https://docs.kraken.com/api/docs/guides/spot-rest-auth
- Gate v4: hex HMAC-SHA512 of METHOD \n path \n query (not URL-encoded) \n hex SHA-512(body)
  \n Timestamp. https://www.gate.io/docs/developers/apiv4/#api-signature-string-generation
- Coinbase Advanced Trade: an ES256 JWT (kid and sub: the key name; uri: "METHOD host/path";
  exp) signed with the key's EC private key. https://docs.cdp.coinbase.com/coinbase-app/authentication-authorization/api-key-authentication
- OKX v5: base64 HMAC-SHA256 of timestamp + method + requestPath (with ?query) + body;
  OK-ACCESS-KEY and OK-ACCESS-PASSPHRASE must match.
  https://www.okx.com/docs-v5/en/#overview-rest-authentication-signature

Usage: standin_exchange.py LOG  (real credentials as JSON on stdin:
{"binance": {"key", "secret"}, "bybit": {...}, "okx"/"kucoin"/"bitget": {"key", "secret", "passphrase"}}).
Prints the port on its first line, then serves until killed. Every request it receives is
appended to LOG as one JSON line {"method", "path", "ok"}: a test reads it to prove what did
and did not reach the exchange.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote_plus, urlsplit

CREDS = json.loads(sys.stdin.read())
LOG = sys.argv[1]
LOCK = threading.Lock()


def hmac256(secret, msg):
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256)


def drop_param(s, name):
    return "&".join(p for p in s.split("&") if p and not p.startswith(name + "="))


def get_param(s, name):
    for p in s.split("&"):
        if p.startswith(name + "="):
            return p[len(name) + 1:]
    return None


BTCUSDT = {
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
    "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
    "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": True, "ocoAllowed": True,
    "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00", "tickSize": "0.01"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.00", "stepSize": "0.00001"},
    ],
    "permissions": [], "permissionSets": [["SPOT"]],
}


def coin(c):
    return {"coin": c, "name": c, "trading": True, "depositAllEnable": True,
            "withdrawAllEnable": True, "free": "0", "locked": "0",
            "networkList": [{"network": "ETH", "coin": c, "name": "Ethereum", "isDefault": True,
                             "withdrawEnable": True, "depositEnable": True, "withdrawFee": "1",
                             "withdrawMin": "10", "withdrawMax": "100000", "withdrawIntegerMultiple": "0.00000001"}]}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def record(self, path, ok):
        with LOCK, open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": path, "ok": ok}) + "\n")

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        u = urlsplit(self.path)
        path, query = u.path, u.query
        if self.headers.get("Authorization", "").startswith("Bearer "):
            return self.coinbase(path, query, body)
        if self.headers.get("KEY") is not None and self.headers.get("SIGN") is not None:
            return self.gate(path, query, body)
        if self.headers.get("bfx-apikey") is not None:
            return self.bitfinex(path, query, body)
        if self.headers.get("API-Key") is not None:
            return self.kraken(path, query, body)
        if self.headers.get("KC-API-KEY") is not None:
            return self.kucoin(path, query, body)
        if self.headers.get("ACCESS-KEY") is not None:
            return self.bitget(path, query, body)
        if path.startswith("/api/v5/"):
            return self.okx(path, query, body)
        if path.startswith("/v5/"):
            return self.bybit(path, query, body)
        return self.binance(path, query, body)

    do_GET = do_POST = do_DELETE = do_PUT = handle_any

    # ---- Binance ----
    def binance(self, path, query, body):
        c = CREDS["binance"]
        now = int(time.time() * 1000)
        if path.endswith("/exchangeInfo"):
            self.record(path, True)
            return self.answer(200, {"timezone": "UTC", "serverTime": now, "rateLimits": [],
                                     "exchangeFilters": [],
                                     "symbols": [BTCUSDT] if path == "/api/v3/exchangeInfo" else []})
        if path == "/api/v3/time":
            self.record(path, True)
            return self.answer(200, {"serverTime": now})
        sig = get_param(query, "signature") or get_param(body, "signature")
        total = drop_param(query, "signature") + drop_param(body, "signature")
        if self.headers.get("X-MBX-APIKEY") != c["key"]:
            self.record(path, False)
            return self.answer(401, {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."})
        if sig is None or not hmac.compare_digest(hmac256(c["secret"], total).hexdigest(), sig.lower()):
            self.record(path, False)
            return self.answer(400, {"code": -1022, "msg": "Signature for this request is not valid."})
        self.record(path, True)
        p = dict(parse_qsl(query))
        p.update(dict(parse_qsl(body)))
        order = {"symbol": p.get("symbol", "BTCUSDT"), "orderId": 4242, "orderListId": -1,
                 "clientOrderId": p.get("newClientOrderId", "standin-1"), "transactTime": now,
                 "price": p.get("price", "0"), "origQty": p.get("quantity", "0"), "executedQty": "0",
                 "cummulativeQuoteQty": "0", "status": "NEW", "timeInForce": "GTC",
                 "type": p.get("type", "LIMIT"), "side": p.get("side", "BUY"), "workingTime": now,
                 "fills": []}
        if path == "/api/v3/account":
            return self.answer(200, {"makerCommission": 10, "takerCommission": 10, "canTrade": True,
                                     "canWithdraw": False, "canDeposit": True, "updateTime": now,
                                     "accountType": "SPOT", "permissions": ["SPOT"],
                                     "balances": [{"asset": "BTC", "free": "1.50000000", "locked": "0.00000000"},
                                                  {"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}]})
        if path == "/sapi/v1/capital/config/getall":
            return self.answer(200, [coin("BTC"), coin("USDT")])
        if path in ("/sapi/v1/margin/allPairs", "/sapi/v1/margin/isolated/allPairs"):
            return self.answer(200, [])
        if path == "/api/v3/order" and self.command == "POST":
            return self.answer(200, order)
        if path == "/api/v3/order" and self.command == "DELETE":
            return self.answer(200, dict(order, status="CANCELED"))
        if path == "/api/v3/openOrders":
            return self.answer(200, [order])
        # Anything else signed (a withdrawal, a transfer) "succeeds" here: the test proves it
        # never arrives.
        return self.answer(200, {"id": "ARRIVED", "tranId": 1})

    # ---- Bybit v5 ----
    def bybit(self, path, query, body):
        c = CREDS["bybit"]
        now = int(time.time() * 1000)
        key = self.headers.get("X-BAPI-API-KEY")
        if key is None:
            self.record(path, True)
            return self.answer(200, {"retCode": 0, "retMsg": "OK", "result": {"list": []}, "time": now})
        ts = self.headers.get("X-BAPI-TIMESTAMP", "")
        recv = self.headers.get("X-BAPI-RECV-WINDOW", "")
        payload = ts + key + recv + (query if self.command == "GET" else body)
        if key != c["key"]:
            self.record(path, False)
            return self.answer(200, {"retCode": 10003, "retMsg": "API key is invalid.", "result": {}, "time": now})
        if not hmac.compare_digest(hmac256(c["secret"], payload).hexdigest(), self.headers.get("X-BAPI-SIGN", "")):
            self.record(path, False)
            return self.answer(200, {"retCode": 10004, "retMsg": "error sign!", "result": {}, "time": now})
        self.record(path, True)
        if path == "/v5/account/wallet-balance":
            result = {"list": [{"accountType": "UNIFIED", "totalEquity": "1000",
                                "coin": [{"coin": "USDT", "walletBalance": "1000", "equity": "1000"}]}]}
        elif path in ("/v5/order/create", "/v5/order/cancel"):
            result = {"orderId": "bybit-4242", "orderLinkId": ""}
        elif path == "/v5/order/realtime":
            result = {"list": [{"orderId": "bybit-4242", "symbol": "BTCUSDT"}], "category": "spot"}
        else:
            result = {"id": "ARRIVED"}
        return self.answer(200, {"retCode": 0, "retMsg": "OK", "result": result, "time": now})

    # ---- OKX v5 ----
    def okx(self, path, query, body):
        c = CREDS["okx"]
        key = self.headers.get("OK-ACCESS-KEY")
        if key is None:
            self.record(path, True)
            return self.answer(200, {"code": "0", "msg": "", "data": []})
        ts = self.headers.get("OK-ACCESS-TIMESTAMP", "")
        pre = ts + self.command + path + ("?" + query if query else "") + body
        want = base64.b64encode(hmac256(c["secret"], pre).digest()).decode()
        if key != c["key"]:
            self.record(path, False)
            return self.answer(401, {"code": "50111", "msg": "Invalid OK-ACCESS-KEY", "data": []})
        if self.headers.get("OK-ACCESS-PASSPHRASE") != c["passphrase"]:
            self.record(path, False)
            return self.answer(401, {"code": "50105", "msg": "Invalid OK-ACCESS-PASSPHRASE", "data": []})
        if not hmac.compare_digest(want, self.headers.get("OK-ACCESS-SIGN", "")):
            self.record(path, False)
            return self.answer(401, {"code": "50113", "msg": "Invalid Sign", "data": []})
        self.record(path, True)
        if path == "/api/v5/account/balance":
            data = [{"totalEq": "1000", "details": [{"ccy": "USDT", "cashBal": "1000", "availBal": "1000"}]}]
        elif path in ("/api/v5/trade/order", "/api/v5/trade/cancel-order"):
            data = [{"ordId": "okx-4242", "clOrdId": "", "sCode": "0", "sMsg": ""}]
        elif path == "/api/v5/trade/orders-pending":
            data = [{"ordId": "okx-4242", "instId": "BTC-USDT"}]
        else:
            data = [{"id": "ARRIVED"}]
        return self.answer(200, {"code": "0", "msg": "", "data": data})

    # ---- KuCoin ----
    def kucoin(self, path, query, body):
        c = CREDS["kucoin"]
        key = self.headers.get("KC-API-KEY")
        ts = self.headers.get("KC-API-TIMESTAMP", "")
        pre = ts + self.command + path + ("?" + query if query else "") + body
        want = base64.b64encode(hmac256(c["secret"], pre).digest()).decode()
        want_pass = base64.b64encode(hmac256(c["secret"], c["passphrase"]).digest()).decode()
        if key != c["key"]:
            self.record(path, False)
            return self.answer(401, {"code": "400003", "msg": "KC-API-KEY not exists"})
        if self.headers.get("KC-API-PASSPHRASE") != want_pass:
            self.record(path, False)
            return self.answer(401, {"code": "400004", "msg": "Invalid KC-API-PASSPHRASE"})
        if not hmac.compare_digest(want, self.headers.get("KC-API-SIGN", "")):
            self.record(path, False)
            return self.answer(401, {"code": "400005", "msg": "Invalid KC-API-SIGN"})
        self.record(path, True)
        if path == "/api/v1/accounts":
            data = [{"id": "a1", "currency": "USDT", "type": "trade", "balance": "1000", "available": "1000", "holds": "0"}]
        elif path in ("/api/v1/orders", "/api/v1/hf/orders") and self.command == "POST":
            data = {"orderId": "kucoin-4242"}
        elif path.startswith("/api/v1/orders/") and self.command == "DELETE":
            data = {"cancelledOrderIds": [path.rsplit("/", 1)[1]]}
        elif path == "/api/v1/orders":
            data = {"items": [{"id": "kucoin-4242", "symbol": "BTC-USDT"}]}
        else:
            data = {"id": "ARRIVED"}
        return self.answer(200, {"code": "200000", "data": data})

    # ---- Bitget v2 ----
    def bitget(self, path, query, body):
        c = CREDS["bitget"]
        key = self.headers.get("ACCESS-KEY")
        ts = self.headers.get("ACCESS-TIMESTAMP", "")
        pre = ts + self.command + path + ("?" + unquote_plus(query) if query else "") + body
        want = base64.b64encode(hmac256(c["secret"], pre).digest()).decode()
        if key != c["key"] or self.headers.get("ACCESS-PASSPHRASE") != c["passphrase"]:
            self.record(path, False)
            return self.answer(400, {"code": "40006", "msg": "Invalid ACCESS_KEY or passphrase"})
        if not hmac.compare_digest(want, self.headers.get("ACCESS-SIGN", "")):
            self.record(path, False)
            return self.answer(400, {"code": "40009", "msg": "sign signature error"})
        self.record(path, True)
        if path == "/api/v2/spot/account/assets":
            data = [{"coin": "USDT", "available": "1000", "frozen": "0", "locked": "0"}]
        elif path in ("/api/v2/spot/trade/place-order", "/api/v2/spot/trade/cancel-order"):
            data = {"orderId": "bitget-4242", "clientOid": ""}
        elif path == "/api/v2/spot/trade/unfilled-orders":
            data = [{"orderId": "bitget-4242", "symbol": "BTCUSDT"}]
        else:
            data = {"id": "ARRIVED"}
        return self.answer(200, {"code": "00000", "msg": "success", "data": data})

    # ---- Bitfinex v2 ----
    def bitfinex(self, path, query, body):
        c = CREDS["bitfinex"]
        nonce = self.headers.get("bfx-nonce", "")
        want = hmac.new(c["secret"].encode(), ("/api" + path + nonce + body).encode(), hashlib.sha384).hexdigest()
        if self.headers.get("bfx-apikey") != c["key"] or not hmac.compare_digest(want, self.headers.get("bfx-signature", "")):
            self.record(path, False)
            return self.answer(500, ["error", 10100, "apikey: invalid"])
        self.record(path, True)
        now = int(time.time() * 1000)
        order = [4242, None, 1, "tBTCUSD", now, now, 0.001, 0.001, "EXCHANGE LIMIT", None, None, None, 0, "ACTIVE", None, None, 50000]
        if path == "/v2/auth/r/wallets":
            return self.answer(200, [["exchange", "USD", 1000.0, 0, 1000.0]])
        if path in ("/v2/auth/w/order/submit", "/v2/auth/w/order/cancel"):
            return self.answer(200, [now, "on-req", None, None, [order], None, "SUCCESS", "ok"])
        if path == "/v2/auth/r/orders":
            return self.answer(200, [order])
        return self.answer(200, [now, "ARRIVED"])

    # ---- Kraken ----
    def kraken(self, path, query, body):
        c = CREDS["kraken"]
        if body.lstrip().startswith("{"):
            nonce = str(json.loads(body).get("nonce", ""))
        else:
            nonce = dict(parse_qsl(body)).get("nonce", "")
        msg = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
        want = base64.b64encode(hmac.new(base64.b64decode(c["secret"]), msg, hashlib.sha512).digest()).decode()
        if self.headers.get("API-Key") != c["key"]:
            self.record(path, False)
            return self.answer(200, {"error": ["EAPI:Invalid key"]})
        if not hmac.compare_digest(want, self.headers.get("API-Sign", "")):
            self.record(path, False)
            return self.answer(200, {"error": ["EAPI:Invalid signature"]})
        self.record(path, True)
        if path == "/0/private/Balance":
            result = {"ZUSD": "1000.0000"}
        elif path == "/0/private/AddOrder":
            result = {"txid": ["OKRAKEN-4242"], "descr": {"order": "buy"}}
        elif path == "/0/private/CancelOrder":
            result = {"count": 1}
        elif path == "/0/private/OpenOrders":
            result = {"open": {"OKRAKEN-4242": {"status": "open"}}}
        else:
            result = {"id": "ARRIVED"}
        return self.answer(200, {"error": [], "result": result})

    # ---- Gate v4 ----
    def gate(self, path, query, body):
        c = CREDS["gate"]
        ts = self.headers.get("Timestamp", "")
        s = "\n".join([self.command, path, unquote_plus(query), hashlib.sha512(body.encode()).hexdigest(), ts])
        want = hmac.new(c["secret"].encode(), s.encode(), hashlib.sha512).hexdigest()
        if self.headers.get("KEY") != c["key"] or not hmac.compare_digest(want, self.headers.get("SIGN", "")):
            self.record(path, False)
            return self.answer(401, {"label": "INVALID_SIGNATURE", "message": "Signature mismatch"})
        self.record(path, True)
        if path == "/api/v4/spot/accounts":
            return self.answer(200, [{"currency": "USDT", "available": "1000", "locked": "0"}])
        if path == "/api/v4/spot/orders" and self.command == "POST":
            return self.answer(201, {"id": "gate-4242", "currency_pair": "BTC_USDT", "status": "open"})
        if path.startswith("/api/v4/spot/orders/") and self.command == "DELETE":
            return self.answer(200, {"id": path.rsplit("/", 1)[1], "status": "cancelled"})
        if path == "/api/v4/spot/open_orders":
            return self.answer(200, [{"currency_pair": "BTC_USDT", "total": 1, "orders": [{"id": "gate-4242"}]}])
        return self.answer(200, {"id": "ARRIVED"})

    # ---- Coinbase Advanced Trade (CDP key, ES256 JWT) ----
    def coinbase(self, path, query, body):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils
        c = CREDS["coinbase"]

        def b64u(s):
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
        try:
            h, cl, sg = self.headers.get("Authorization", "").split(" ", 1)[1].split(".")
            pub = serialization.load_pem_private_key(c["secret"].encode(), None).public_key()
            raw = b64u(sg)
            der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            pub.verify(der, (h + "." + cl).encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(b64u(cl))
            header = json.loads(b64u(h))
            ok = (claims["sub"] == c["key"] and header["kid"] == c["key"]
                  and claims["uri"] == self.command + " api.coinbase.com" + path
                  and claims["exp"] >= time.time())
        except Exception:
            ok = False
        if not ok:
            self.record(path, False)
            return self.answer(401, {"error": "unauthorized", "message": "Unauthorized"})
        self.record(path, True)
        if path == "/api/v3/brokerage/accounts":
            return self.answer(200, {"accounts": [{"uuid": "a1", "currency": "USD", "available_balance": {"value": "1000", "currency": "USD"}}], "has_next": False})
        if path == "/api/v3/brokerage/orders":
            return self.answer(200, {"success": True, "success_response": {"order_id": "cb-4242", "product_id": "BTC-USD"}})
        if path == "/api/v3/brokerage/orders/batch_cancel":
            return self.answer(200, {"results": [{"success": True, "order_id": "cb-4242"}]})
        if path == "/api/v3/brokerage/orders/historical/batch":
            return self.answer(200, {"orders": [{"order_id": "cb-4242", "product_id": "BTC-USD"}]})
        return self.answer(200, {"id": "ARRIVED"})


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
