"""Local emulators of the provider APIs, backed by one deterministic synthetic company.

They are real HTTP servers on 127.0.0.1 that the real clients talk to: same paths, auth checks,
pagination, value encodings and error bodies as the providers document, plus fault injection.
"""
