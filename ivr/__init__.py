"""The citizen's phone menu (语音导航), run as a FastAGI server (issue 4).

- ``flows/*.yaml``: the flows as data; ``prompts/catalogue.yaml``: every prompt and its text.
- :mod:`ivr.flows`: the schema, loading and the checks made at boot.
- :mod:`ivr.engine`: the interpreter (one call, through the ``Line`` protocol).
- :mod:`ivr.agi`: the FastAGI wire protocol; :mod:`ivr.server`: the asyncio server.
- :mod:`ivr.orders`, :mod:`ivr.callbacks`, :mod:`ivr.waiting`, :mod:`ivr.hours`: what the flows
  look up or record, each behind a small protocol.
- ``python -m ivr``: the composition root.
"""
