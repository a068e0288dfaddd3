"""PBX control over the Asterisk Manager Interface (AMI): wire decoding, typed events,
the live call model, the connection manager and a wire-faithful Asterisk simulator.

This package is an adapter at the edge: the work-order domain never imports it.
"""
