"""The compiled-vs-trained study: does a transformer trained on a program's outputs find the compiled weights'
mechanism? (`rasp trained-vs-compiled`; docs/trained_vs_compiled.md)"""
