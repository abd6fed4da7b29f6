"""The case types, one package each (see domain/casetype.py for what a package declares).

A package exports `CASE_TYPES`, a list of `CaseType`; `domain.registry.BUILTIN` lists the packages.
`templates/` here holds the e-mail templates shared by several case types.
"""
