"""The phone audio path (WebSocket telephony protocols, ASR, TTS): built in the voice gateway issue."""
