"""A plain ccxt bot run under `vault run --proxy`: it holds only the stand-in credentials
vault gave it, points ccxt at $VAULT_PROXY_URL exactly as docs/KEYLESS.md says, and does what
a bot does. Prints one JSON object of what happened.

Usage: through_proxy.py EXCHANGE ENVIRON_OUT
  ENVIRON_OUT: where to copy this process's /proc/self/environ (the test looks in it for the
  real credentials, which must not be there).
"""
import json
import os
import sys

import ccxt

ex_id, environ_out = sys.argv[1], sys.argv[2]
with open("/proc/self/environ", "rb") as f, open(environ_out, "wb") as o:
    o.write(f.read())

PROXY = os.environ["VAULT_PROXY_URL"]


def rewrite(urls):
    """docs/KEYLESS.md: replace https:// with $VAULT_PROXY_URL in every string of urls['api']."""
    for k, v in urls.items():
        if isinstance(v, dict):
            rewrite(v)
        elif isinstance(v, str):
            urls[k] = v.replace("https://", PROXY)


def make(secret=None, key=None):
    cfg = {
        "apiKey": key or os.environ["EXCHANGE_KEY"],
        "secret": secret or os.environ["EXCHANGE_SECRET"],
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    if os.environ.get("EXCHANGE_PASSPHRASE"):
        cfg["password"] = os.environ["EXCHANGE_PASSPHRASE"]
    e = getattr(ccxt, ex_id)(cfg)
    rewrite(e.urls["api"])
    return e


def attempt(fn):
    try:
        return {"ok": True, "answer": json.dumps(fn(), default=str)[:300]}
    except ccxt.BaseError as err:
        return {"ok": False, "error": str(err)[:400]}


res = {"proxy": PROXY}
ex = make()
if ex_id == "binance":
    res["balance"] = attempt(lambda: ex.fetch_balance()["USDT"]["free"])
    order = ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
    res["order"] = order["id"]
    res["cancel"] = attempt(lambda: ex.cancel_order(order["id"], "BTC/USDT")["status"])
    res["open"] = attempt(lambda: len(ex.fetch_open_orders("BTC/USDT")))
    res["withdraw"] = attempt(lambda: ex.withdraw("USDT", 100, "0x" + "ab" * 20, params={"network": "ETH"}))
    res["transfer"] = attempt(lambda: ex.sapi_post_asset_transfer({"type": "MAIN_UMFUTURE", "asset": "USDT", "amount": "10"}))
    res["other_symbol"] = attempt(lambda: ex.private_post_order({"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01", "price": "3000"}))
    res["big"] = attempt(lambda: ex.private_post_order({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1", "price": "50000"}))
    res["not_listed"] = attempt(lambda: ex.sapi_get_account_status())
elif ex_id == "bybit":
    res["balance"] = attempt(lambda: ex.private_get_v5_account_wallet_balance({"accountType": "UNIFIED"})["result"]["list"][0]["totalEquity"])
    o = ex.private_post_v5_order_create({"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.001", "price": "50000"})
    res["order"] = o["result"]["orderId"]
    res["cancel"] = attempt(lambda: ex.private_post_v5_order_cancel({"category": "spot", "symbol": "BTCUSDT", "orderId": res["order"]})["result"]["orderId"])
    res["open"] = attempt(lambda: len(ex.private_get_v5_order_realtime({"category": "spot", "symbol": "BTCUSDT"})["result"]["list"]))
    res["withdraw"] = attempt(lambda: ex.private_post_v5_asset_withdraw_create({"coin": "USDT", "chain": "ETH", "address": "0x" + "ab" * 20, "amount": "100", "timestamp": 1}))
    res["transfer"] = attempt(lambda: ex.private_post_v5_asset_transfer_inter_transfer({"transferId": "x", "coin": "USDT", "amount": "10", "fromAccountType": "UNIFIED", "toAccountType": "FUND"}))
    res["other_symbol"] = attempt(lambda: ex.private_post_v5_order_create({"category": "spot", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01", "price": "3000"}))
    res["big"] = attempt(lambda: ex.private_post_v5_order_create({"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "1", "price": "50000"}))
    res["not_listed"] = attempt(lambda: ex.private_get_v5_account_borrow_history())
elif ex_id == "okx":
    res["balance"] = attempt(lambda: ex.private_get_account_balance()["data"][0]["totalEq"])
    o = ex.private_post_trade_order({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.001", "px": "50000"})
    res["order"] = o["data"][0]["ordId"]
    res["cancel"] = attempt(lambda: ex.private_post_trade_cancel_order({"instId": "BTC-USDT", "ordId": res["order"]})["data"][0]["ordId"])
    res["open"] = attempt(lambda: len(ex.private_get_trade_orders_pending({"instId": "BTC-USDT"})["data"]))
    res["withdraw"] = attempt(lambda: ex.private_post_asset_withdrawal({"ccy": "USDT", "amt": "100", "dest": "4", "toAddr": "0x" + "ab" * 20, "chain": "USDT-ERC20"}))
    res["transfer"] = attempt(lambda: ex.private_post_asset_transfer({"ccy": "USDT", "amt": "10", "from": "18", "to": "6"}))
    res["other_symbol"] = attempt(lambda: ex.private_post_trade_order({"instId": "ETH-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.01", "px": "3000"}))
    res["big"] = attempt(lambda: ex.private_post_trade_order({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1", "px": "50000"}))
    res["not_listed"] = attempt(lambda: ex.private_get_account_bills())
elif ex_id == "kucoin":
    res["balance"] = attempt(lambda: ex.private_get_accounts()["data"][0]["balance"])
    o = ex.private_post_orders({"clientOid": "c1", "side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "50000", "size": "0.001"})
    res["order"] = o["data"]["orderId"]
    res["cancel"] = attempt(lambda: ex.private_delete_orders_orderid({"orderId": res["order"]})["data"]["cancelledOrderIds"][0])
    res["open"] = attempt(lambda: len(ex.private_get_orders({"status": "active"})["data"]["items"]))
    res["withdraw"] = attempt(lambda: ex.private_post_withdrawals({"currency": "USDT", "address": "0x" + "ab" * 20, "amount": "100"}))
    res["transfer"] = attempt(lambda: ex.private_post_accounts_inner_transfer({"clientOid": "t", "currency": "USDT", "from": "main", "to": "trade", "amount": "10"}))
    res["other_symbol"] = attempt(lambda: ex.private_post_orders({"clientOid": "c2", "side": "buy", "symbol": "ETH-USDT", "type": "limit", "price": "3000", "size": "0.01"}))
    res["big"] = attempt(lambda: ex.private_post_orders({"clientOid": "c3", "side": "buy", "symbol": "BTC-USDT", "type": "limit", "price": "50000", "size": "1"}))
    res["not_listed"] = attempt(lambda: ex.private_get_margin_account())
elif ex_id == "bitget":
    res["balance"] = attempt(lambda: ex.private_spot_get_v2_spot_account_assets()["data"][0]["available"])
    o = ex.private_spot_post_v2_spot_trade_place_order({"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "50000", "size": "0.001"})
    res["order"] = o["data"]["orderId"]
    res["cancel"] = attempt(lambda: ex.private_spot_post_v2_spot_trade_cancel_order({"symbol": "BTCUSDT", "orderId": res["order"]})["data"]["orderId"])
    res["open"] = attempt(lambda: len(ex.private_spot_get_v2_spot_trade_unfilled_orders({"symbol": "BTCUSDT"})["data"]))
    res["withdraw"] = attempt(lambda: ex.private_spot_post_v2_spot_wallet_withdrawal({"coin": "USDT", "transferType": "on_chain", "address": "0x" + "ab" * 20, "size": "100"}))
    res["transfer"] = attempt(lambda: ex.private_spot_post_v2_spot_wallet_transfer({"fromType": "spot", "toType": "usdt_futures", "amount": "10", "coin": "USDT"}))
    res["other_symbol"] = attempt(lambda: ex.private_spot_post_v2_spot_trade_place_order({"symbol": "ETHUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "3000", "size": "0.01"}))
    res["big"] = attempt(lambda: ex.private_spot_post_v2_spot_trade_place_order({"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "50000", "size": "1"}))
    res["not_listed"] = attempt(lambda: ex.private_spot_get_v2_spot_account_bills())
elif ex_id == "bitfinex":
    res["balance"] = attempt(lambda: ex.private_post_auth_r_wallets()[0][2])
    o = ex.private_post_auth_w_order_submit({"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "0.001", "price": "50000"})
    res["order"] = str(o[4][0][0])
    res["cancel"] = attempt(lambda: ex.private_post_auth_w_order_cancel({"id": 4242})[6])
    res["open"] = attempt(lambda: len(ex.private_post_auth_r_orders()))
    res["withdraw"] = attempt(lambda: ex.private_post_auth_w_withdraw({"wallet": "exchange", "method": "tetheruse", "amount": "100", "address": "0x" + "ab" * 20}))
    res["transfer"] = attempt(lambda: ex.private_post_auth_w_transfer({"from": "exchange", "to": "margin", "currency": "USD", "amount": "10"}))
    res["other_symbol"] = attempt(lambda: ex.private_post_auth_w_order_submit({"type": "EXCHANGE LIMIT", "symbol": "tETHUSD", "amount": "0.01", "price": "3000"}))
    res["big"] = attempt(lambda: ex.private_post_auth_w_order_submit({"type": "EXCHANGE LIMIT", "symbol": "tBTCUSD", "amount": "1", "price": "50000"}))
    res["not_listed"] = attempt(lambda: ex.private_post_auth_r_ledgers_hist())
elif ex_id == "kraken":
    res["balance"] = attempt(lambda: ex.private_post_balance()["result"]["ZUSD"])
    o = ex.private_post_addorder({"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000", "volume": "0.001"})
    res["order"] = o["result"]["txid"][0]
    res["cancel"] = attempt(lambda: ex.private_post_cancelorder({"txid": res["order"]})["result"]["count"])
    res["open"] = attempt(lambda: len(ex.private_post_openorders()["result"]["open"]))
    res["withdraw"] = attempt(lambda: ex.private_post_withdraw({"asset": "USD", "key": "mykey", "amount": "100"}))
    res["transfer"] = attempt(lambda: ex.private_post_wallettransfer({"asset": "USD", "from": "Spot Wallet", "to": "Futures Wallet", "amount": "10"}))
    res["other_symbol"] = attempt(lambda: ex.private_post_addorder({"pair": "ETHUSD", "type": "buy", "ordertype": "limit", "price": "3000", "volume": "0.01"}))
    res["big"] = attempt(lambda: ex.private_post_addorder({"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "price": "50000", "volume": "1"}))
    res["not_listed"] = attempt(lambda: ex.private_post_ledgers())
elif ex_id == "gate":
    res["balance"] = attempt(lambda: ex.private_spot_get_accounts()[0]["available"])
    o = ex.private_spot_post_orders({"currency_pair": "BTC_USDT", "side": "buy", "type": "limit", "amount": "0.001", "price": "50000"})
    res["order"] = o["id"]
    res["cancel"] = attempt(lambda: ex.private_spot_delete_orders_order_id({"order_id": res["order"], "currency_pair": "BTC_USDT"})["status"])
    res["open"] = attempt(lambda: len(ex.private_spot_get_open_orders()))
    res["withdraw"] = attempt(lambda: ex.private_withdrawals_post_withdrawals({"currency": "USDT", "address": "0x" + "ab" * 20, "amount": "100", "chain": "ETH"}))
    res["transfer"] = attempt(lambda: ex.private_wallet_post_transfers({"currency": "USDT", "from": "spot", "to": "futures", "amount": "10", "settle": "usdt"}))
    res["other_symbol"] = attempt(lambda: ex.private_spot_post_orders({"currency_pair": "ETH_USDT", "side": "buy", "type": "limit", "amount": "0.01", "price": "3000"}))
    res["big"] = attempt(lambda: ex.private_spot_post_orders({"currency_pair": "BTC_USDT", "side": "buy", "type": "limit", "amount": "1", "price": "50000"}))
    res["not_listed"] = attempt(lambda: ex.private_spot_get_account_book())
elif ex_id == "coinbase":
    res["balance"] = attempt(lambda: ex.v3_private_get_brokerage_accounts()["accounts"][0]["available_balance"]["value"])
    o = ex.v3_private_post_brokerage_orders({"client_order_id": "c1", "product_id": "BTC-USD", "side": "BUY", "order_configuration": {"limit_limit_gtc": {"base_size": "0.001", "limit_price": "50000"}}})
    res["order"] = o["success_response"]["order_id"]
    res["cancel"] = attempt(lambda: ex.v3_private_post_brokerage_orders_batch_cancel({"order_ids": [res["order"]]})["results"][0]["success"])
    res["open"] = attempt(lambda: len(ex.v3_private_get_brokerage_orders_historical_batch({"order_status": "OPEN"})["orders"]))
    res["withdraw"] = attempt(lambda: ex.v2_private_post_accounts_account_id_transactions({"account_id": "a1", "type": "send", "to": "0x" + "ab" * 20, "amount": "100", "currency": "USDC"}))
    res["transfer"] = attempt(lambda: ex.v3_private_post_brokerage_portfolios_move_funds({"funds": {"value": "10", "currency": "USD"}, "source_portfolio_uuid": "a", "target_portfolio_uuid": "b"}))
    res["other_symbol"] = attempt(lambda: ex.v3_private_post_brokerage_orders({"client_order_id": "c2", "product_id": "ETH-USD", "side": "BUY", "order_configuration": {"limit_limit_gtc": {"base_size": "0.01", "limit_price": "3000"}}}))
    res["big"] = attempt(lambda: ex.v3_private_post_brokerage_orders({"client_order_id": "c3", "product_id": "BTC-USD", "side": "BUY", "order_configuration": {"limit_limit_gtc": {"base_size": "1", "limit_price": "50000"}}}))
    res["not_listed"] = attempt(lambda: ex.v3_private_get_brokerage_portfolios())

# The same stand-in key signed with any other secret: the proxy must refuse it (401).
if ex_id == "coinbase":
    # Another EC key: a valid JWT, but not this run's.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()).decode()
    bad = make(secret=other)
else:
    bad = make(secret="".join("A" if c != "A" else "B" for c in os.environ["EXCHANGE_SECRET"]))
if ex_id == "binance":
    res["bad_secret"] = attempt(lambda: bad.private_get_account())
elif ex_id == "bybit":
    res["bad_secret"] = attempt(lambda: bad.private_get_v5_account_wallet_balance({"accountType": "UNIFIED"}))
elif ex_id == "bitfinex":
    res["bad_secret"] = attempt(lambda: bad.private_post_auth_r_wallets())
elif ex_id == "kraken":
    res["bad_secret"] = attempt(lambda: bad.private_post_balance())
elif ex_id == "gate":
    res["bad_secret"] = attempt(lambda: bad.private_spot_get_accounts())
elif ex_id == "coinbase":
    res["bad_secret"] = attempt(lambda: bad.v3_private_get_brokerage_accounts())
elif ex_id == "kucoin":
    res["bad_secret"] = attempt(lambda: bad.private_get_accounts())
elif ex_id == "bitget":
    res["bad_secret"] = attempt(lambda: bad.private_spot_get_v2_spot_account_assets())
else:
    res["bad_secret"] = attempt(lambda: bad.private_get_account_balance())
print(json.dumps(res))
