"""Audio building blocks of the call path: G.711 mu-law, resampling, WAV files, in-band DTMF."""
