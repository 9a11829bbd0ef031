"""Konferenz (conference) of a UMS profile, one module per part:

- ``room``: the dial-in number, the moderator and participant PINs (encrypted at rest), settings;
- ``meetings``: scheduled meetings and their iCalendar invitations by mail;
- ``live``: who is in the room now (platform events), moderator actions, the simulator;
- ``recordings``: recordings the platform deposits.

Functions take the session and acting user explicitly and only flush; the request commits.
"""

from . import live, meetings, recordings, room  # noqa: F401
