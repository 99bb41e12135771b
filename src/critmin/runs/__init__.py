"""One request and one run function per user question (issue 11): the CLI, API and dashboard parse, build
the request, call ``run`` and render. This layer composes the library layers below it."""
