"""The newsletter's rendering and web archive: pure, no state and no mail."""
