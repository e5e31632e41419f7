-- Every answer, recorded under its id: what was asked, by whom, the plan that ran, the evidence and
-- what was cited, the facts, how it was made (mode, models, prompt versions, settings) and how long
-- each stage took. Feedback and audit (later issues) refer to answers by this id.
CREATE TABLE IF NOT EXISTS answers (
    id               uuid        PRIMARY KEY,
    asked_at         timestamptz NOT NULL DEFAULT now(),
    analyst          text        NOT NULL,
    question         text        NOT NULL,
    as_of            date        NOT NULL,
    plan             jsonb       NOT NULL,
    matched          integer     NOT NULL,
    evidence_ids     bigint[]    NOT NULL,  -- best-ranked first
    evidence_scores  float8[]    NOT NULL,
    cited_ids        bigint[]    NOT NULL,
    summary          text        NOT NULL,  -- plain text with citation markers [#id]
    facts            jsonb       NOT NULL,
    themes           jsonb       NOT NULL,
    anomalies        jsonb       NOT NULL,
    notes            jsonb       NOT NULL,
    mode             text        NOT NULL CHECK (mode IN ('offline', 'llm')),
    embedding_model  text        NOT NULL,
    llm_model        text,
    prompt_hashes    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    settings         jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- the settings that shape retrieval
    timings          jsonb       NOT NULL DEFAULT '{}'::jsonb   -- milliseconds per stage
);

CREATE INDEX IF NOT EXISTS answers_asked_at_idx ON answers (asked_at);
CREATE INDEX IF NOT EXISTS answers_analyst_idx ON answers (analyst, asked_at);
