"""Speakers as the transcript shows them: words to voices, roles, labels, review, profiles.

- :mod:`~pipeline.speakers.assign`: each word to its voice, sentences kept whole at turn
  changes; turns; crosstalk without words (``[overlap: LABEL]``).
- :mod:`~pipeline.speakers.names`: voices tied to roster people from what is said.
- :mod:`~pipeline.speakers.roles`: facilitator / staff / member per voice, with confidence.
- :mod:`~pipeline.speakers.labels`: project-wide labels (``MEMBER-3``) per person.
- :mod:`~pipeline.speakers.review`: the review file an RA fills in.
- :mod:`~pipeline.speakers.profiles`: enrolled voice profiles in the key area.
"""
