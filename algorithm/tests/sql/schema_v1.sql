-- The training_job schema of the first release (issue 2), to test in-place upgrades.

CREATE TABLE IF NOT EXISTS training_job (
    id            uuid        PRIMARY KEY,
    status        text        NOT NULL DEFAULT 'queued',
    error         text,
    model_version text,
    metrics       jsonb,
    n_samples     integer,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    CONSTRAINT training_job_status_valid
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    CONSTRAINT training_job_n_samples_non_negative
        CHECK (n_samples IS NULL OR n_samples >= 0),
    CONSTRAINT training_job_succeeded_has_model
        CHECK (status <> 'succeeded' OR (model_version IS NOT NULL AND finished_at IS NOT NULL)),
    CONSTRAINT training_job_failed_has_error
        CHECK (status <> 'failed' OR (error IS NOT NULL AND finished_at IS NOT NULL))
);

-- Single-flight: every active row indexes the same constant, so a second active job violates it.
CREATE UNIQUE INDEX IF NOT EXISTS training_job_single_active
    ON training_job ((true))
    WHERE status IN ('queued', 'running');

CREATE INDEX IF NOT EXISTS training_job_created_at
    ON training_job (created_at DESC);
