"""One module per view of the page: parse(Params) -> request, compute(request, progress) -> answer, tables(answer) -> CSV tables."""
