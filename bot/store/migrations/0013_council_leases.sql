-- Running at scale (issue 18): several bot processes share one store, and a council must never
-- run in two of them. The process running a council holds its lease and renews it; another
-- takes it over only once `expires_at` (UTC ISO text, as every time column) has passed.
-- No foreign key: a lease outlives nothing, and is deleted when its council stops running here.
CREATE TABLE council_leases (
    session_id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
