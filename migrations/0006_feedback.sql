-- Analysts' verdicts on answers: thumbs up or down, an optional comment, from which front and when.
-- An analyst may change their mind: each click is kept (the latest per analyst and answer is current).
CREATE TABLE IF NOT EXISTS feedback (
    id          bigserial   PRIMARY KEY,
    answer_id   uuid        NOT NULL REFERENCES answers (id) ON DELETE CASCADE,
    analyst     text        NOT NULL,
    rating      text        NOT NULL CHECK (rating IN ('up', 'down')),
    comment     text        CHECK (length(comment) <= 2000),
    source      text        NOT NULL CHECK (source IN ('ui', 'slack', 'api', 'cli')),
    given_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS feedback_answer_idx ON feedback (answer_id, given_at);
