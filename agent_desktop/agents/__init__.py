"""The queue and the agents (坐席): sign-in, pauses, wrap-up, live queue statistics, the live
desktop (websocket) and the PBX runtime that feeds them.

Split as intake → service → notifier: ``calls`` and ``stats`` turn the PBX model's changes into
desktop facts (pure), ``service`` acts on the PBX through the AMI connection, ``hub`` pushes to
the agents' websockets, ``runtime`` wires it all into the app's lifespan.
"""
