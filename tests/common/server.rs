//! Starting the real server over a temporary posts folder, and a real HTTP client.
