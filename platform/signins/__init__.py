"""Sign-ins: proof that a member logged in, and a brake on guessing their password.

The web tier acts for a member only with the assertion the platform signed when that
member logged in (signins.assertions); the web tier's API token alone acts for no one.
Wrong passwords for one account slow its next attempts down (signins.throttle).
"""
