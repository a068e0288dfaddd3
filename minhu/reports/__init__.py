"""分析报告 — the bulletins people read (Art. 19) and the leaders' hotline days (Art. 6).

The adapter around the pure analysis (:mod:`workorders.analysis`): the topic dictionary and its
jieba segmenter (:mod:`.dictionary`, data in ``data/topics.toml``), what is read from the database
(:mod:`.source`, :mod:`.leader_days`), the document model (:mod:`.model`, :mod:`.builder`), the
charts (:mod:`.charts`), the formats (:mod:`.render`: HTML, DOCX, XLSX, CSV), the service that
ties them together (:mod:`.service`) and the ``minhu report`` commands (:mod:`.cli`).
"""
