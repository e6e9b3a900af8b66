"""Results as data, and their renderings: the one vocabulary (:mod:`.result`), traces
(:mod:`.trace`), text (:mod:`.text`), JSON (:mod:`.jsonout`) and JUnit (:mod:`.junit`)."""
