"""The report form as data, the pure conversation engine, parsers and the Vietnamese texts. No I/O."""
