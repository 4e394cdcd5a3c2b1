"""Inside `vault run --proxy --env-profile freqtrade`: build the exchange exactly as freqtrade
does (its Configuration, which reads FREQTRADE__* variables, and its ExchangeResolver, which
makes its own ccxt objects from `ccxt_config`), then make one private call through it.
Prints {"balance_usdt": ...} or fails.

Usage: freqtrade_private_call.py CONFIG
"""
import json
import sys

from freqtrade.configuration import Configuration
from freqtrade.resolvers import ExchangeResolver

config = Configuration.from_files([sys.argv[1]])
ex = ExchangeResolver.load_exchange(config, validate=False, load_leverage_tiers=False)
balances = ex.get_balances()
print(json.dumps({"balance_usdt": balances["USDT"]["free"], "api_url": ex._api.urls["api"]["private"]}))
ex.close()
