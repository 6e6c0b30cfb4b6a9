"""De-identification: find identifiers (Presidio + speech-aware recognizers), replace
them with consistent pseudonyms, keep the key encrypted, and gate every output.

- :mod:`pipeline.deid.presidio_engine`: the analyzer (engine ``presidio``);
- :mod:`pipeline.deid.roster`, :mod:`pipeline.deid.spoken`, :mod:`pipeline.deid.truecase`:
  what it adds for roster names, spoken numbers and lowercase text;
- :mod:`pipeline.deid.pseudonyms` and :mod:`pipeline.deid.keystore`: tags and the key;
- :mod:`pipeline.deid.apply`: replacing words in a transcript with timings kept;
- :mod:`pipeline.deid.gate`: the leak gate; :mod:`pipeline.deid.audio`: bleeped audio.
"""
