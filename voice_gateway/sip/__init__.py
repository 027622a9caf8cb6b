"""SIP: trunks, PBXs and SIP phones call the gateway directly (one more transport beside the WebSockets).

config (settings), transports (the gate: size, allowlist, sane INVITEs), identity (the caller's
number), media (RTP and RFC 4733 keys), call (one dialog as a run_call transport), endpoint (the
listener, registration). The pipeline after them is the gateway's; the serializer is
``voice_gateway.serializers.sip``.
"""
