"""Sign-in, roles and the access rule of every route: the one place where the server decides who may do what.

``routes.ACCESS`` declares the rule of each route; ``middleware`` authenticates each request (session
cookie, bearer token, JWT or a telephony credential) and enforces the rule before any handler runs.
"""
