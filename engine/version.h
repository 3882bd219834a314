/* version — the engine's version, recorded in every run's ledger row. */
#ifndef CANBAO_VERSION_H
#define CANBAO_VERSION_H
#define CANBAO_VERSION "0.1.0"
#endif
