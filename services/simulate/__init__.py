"""`voc simulate`: realistic feedback posted through every configured source's real webhook
format, signed as the provider signs it, at a steady rate; for demos and the benchmarks."""
