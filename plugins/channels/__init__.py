"""The built-in invitation channels: Digital Post, letter, SMS and e-mail.

Each module is its own plugin (entry points ``digital_post``, ``letter``, ``sms``, ``email``
in the ``kleroterion.plugins`` group), configured from the region file's
``[plugins.<name>]`` table. A channel whose table is missing offers nothing: installed is
not the same as configured. What the channels share lives in ``_common`` and ``_pdf``.
"""
