"""Who is asking, and how much they may send: the primitives every package checks against.

The composition root (``helpline.security``) authenticates requests and decides which role a
route needs; the packages that serve routes only read the principal it attached to the request.
"""
