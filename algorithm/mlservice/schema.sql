-- The algorithm service's own table; Django owns `data`. Idempotent: `flask --app mlservice init-db`
-- runs it on every stack start.

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

-- Lease, fencing, attempts and run statistics (issue 6). Added in place, so an existing table
-- keeps its rows; the constraint is NOT VALID so that a job running during the upgrade does not
-- block it (new writes are still checked).
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
-- Renewed every few seconds by the running task; older than TRAIN_LEASE_SECONDS = stale.
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz;
-- Taken from the sequence at every start: only the run holding the newest number may publish.
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS fence bigint;
-- "hostname:pid" of the process running the job, so a redelivery can tell its owner is dead.
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS worker text;
-- peak_rss_bytes and per-phase seconds of the last run.
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS stats jsonb;
-- The running job's progress (issue 17): {"phase", "done", "total", "updated_at"}, written by
-- the run holding the lease; the last one stays on a finished job (where it stopped).
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS progress jsonb;
CREATE SEQUENCE IF NOT EXISTS training_job_fence_seq OWNED BY training_job.fence;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'training_job_running_has_lease') THEN
        ALTER TABLE training_job ADD CONSTRAINT training_job_running_has_lease
            CHECK (status <> 'running' OR (fence IS NOT NULL AND heartbeat_at IS NOT NULL))
            NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'training_job_attempts_non_negative') THEN
        ALTER TABLE training_job ADD CONSTRAINT training_job_attempts_non_negative
            CHECK (attempts >= 0) NOT VALID;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'training_job_progress_valid') THEN
        ALTER TABLE training_job ADD CONSTRAINT training_job_progress_valid
            CHECK (progress IS NULL OR (
                jsonb_typeof(progress) = 'object'
                AND progress ->> 'phase' IN ('reading_rows', 'fitting', 'evaluating', 'publishing')
            )) NOT VALID;
    END IF;
END $$;

-- Model versions (issue 15): the signed files of each kept version, so that every API replica,
-- on any node, copies them into its own MODELS_DIR (mlservice.store.artifact_db). Added by the worker
-- in one transaction with the pointer below; versions beyond MODEL_KEEP_VERSIONS are deleted.
CREATE TABLE IF NOT EXISTS model_version (
    version    text        PRIMARY KEY,
    -- metadata.json as signed: both pickles' sha256 and an HMAC over the rest (MODEL_SIGNING_KEY).
    metadata   bytea       NOT NULL,
    model      bytea       NOT NULL,
    vectorizer bytea       NOT NULL,
    fence      bigint,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row: what every replica serves. The foreign keys keep a pointed-at version from being
-- deleted; the fence is the highest one a publish carried (a stale run cannot publish over it).
CREATE TABLE IF NOT EXISTS model_pointer (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    current    text        NOT NULL REFERENCES model_version (version),
    last_good  text        REFERENCES model_version (version),
    fence      bigint,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Stages (issue 16). A version is a `candidate` (trained, waiting or held back by the promotion
-- gate), `production` (the one `model_pointer.current` names: at most one, by the index below)
-- or `archived` (was production once, or a candidate passed over). A version stored before
-- stages existed is production if the pointer names it, else archived.
ALTER TABLE model_version ADD COLUMN IF NOT EXISTS stage text;
UPDATE model_version SET stage = CASE WHEN version = (SELECT current FROM model_pointer)
    THEN 'production' ELSE 'archived' END
    WHERE stage IS NULL;
ALTER TABLE model_version ALTER COLUMN stage SET DEFAULT 'candidate';
ALTER TABLE model_version ALTER COLUMN stage SET NOT NULL;
-- The hash of the rows the version was trained on (and the classifier): an unchanged table is
-- not trained again unless forced.
ALTER TABLE model_version ADD COLUMN IF NOT EXISTS data_hash text;
-- The winning recipe fitted on the training rows only (not the evaluation rows), pickled; its
-- sha256 is in the signed metadata. The promotion gate scores it against a newer candidate on
-- rows neither was fitted on. Never copied to the API's MODELS_DIR.
ALTER TABLE model_version ADD COLUMN IF NOT EXISTS holdout bytea;
CREATE UNIQUE INDEX IF NOT EXISTS model_version_single_production
    ON model_version ((true))
    WHERE stage = 'production';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'model_version_stage_valid') THEN
        ALTER TABLE model_version ADD CONSTRAINT model_version_stage_valid
            CHECK (stage IN ('candidate', 'production', 'archived'));
    END IF;
END $$;

-- Every stage change: who (a user, or the training job), when, from and to which stage, why.
-- Kept when a version is pruned (no foreign key): the audit outlives the files.
CREATE TABLE IF NOT EXISTS model_stage_change (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version    text        NOT NULL,
    from_stage text,
    to_stage   text        NOT NULL,
    actor      text        NOT NULL,
    reason     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT model_stage_change_to_valid
        CHECK (to_stage IN ('candidate', 'production', 'archived')),
    CONSTRAINT model_stage_change_reason_not_empty CHECK (length(btrim(reason)) > 0),
    CONSTRAINT model_stage_change_actor_not_empty CHECK (length(btrim(actor)) > 0)
);
CREATE INDEX IF NOT EXISTS model_stage_change_version ON model_stage_change (version, id);

-- How a succeeded job ended: `promoted` (its model serves), `candidate` (held back by the gate;
-- `note` says why) or `skipped` (the data had not changed; `model_version` is the production
-- version that already learned it).
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS outcome text;
ALTER TABLE training_job ADD COLUMN IF NOT EXISTS note text;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'training_job_outcome_valid') THEN
        ALTER TABLE training_job ADD CONSTRAINT training_job_outcome_valid
            CHECK (outcome IS NULL OR outcome IN ('promoted', 'candidate', 'skipped')) NOT VALID;
    END IF;
END $$;

-- Shadow scoring (issue 16): how often a waiting candidate agreed with production on sampled
-- live predictions, per production label; every API process adds its counts.
CREATE TABLE IF NOT EXISTS shadow_agreement (
    candidate_version  text        NOT NULL,
    production_version text        NOT NULL,
    label              text        NOT NULL,
    scored             bigint      NOT NULL DEFAULT 0 CHECK (scored >= 0),
    agreed             bigint      NOT NULL DEFAULT 0 CHECK (agreed >= 0 AND agreed <= scored),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (candidate_version, production_version, label)
);
