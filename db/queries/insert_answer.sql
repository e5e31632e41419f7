-- Record one answer with the scopes it was answered in (see migrations/0005_answers.sql, 0007).
INSERT INTO answers (id, analyst, scopes, question, as_of, plan, matched, evidence_ids, evidence_scores, cited_ids,
                     summary, facts, themes, anomalies, notes, mode, embedding_model, llm_model,
                     prompt_hashes, settings, timings)
VALUES (%(id)s, %(analyst)s, %(scopes)s, %(question)s, %(as_of)s, %(plan)s, %(matched)s, %(evidence_ids)s,
        %(evidence_scores)s, %(cited_ids)s, %(summary)s, %(facts)s, %(themes)s, %(anomalies)s, %(notes)s,
        %(mode)s, %(embedding_model)s, %(llm_model)s, %(prompt_hashes)s, %(settings)s, %(timings)s)
