"""Hand-written behaviour of the application, one module per spec module.

`cspec gen` created this package once and never overwrites or deletes its files: edit freely.
"""
