/*
 * truth.h — the lists of POLICY.md as tests/synth/SPEC.md defines them,
 * evaluated on the canonical facts of the rows the generator wrote.
 *
 * Contract: truth_person() is called once per person with the bundle of that
 * person's clean rows (malformed and duplicate rows never reach it; at
 * --noise > 0 the bundle holds the person's rows whatever ID they carry,
 * i.e. the true links).  truth_add_division() is called for every row of the
 * reference list as written.  truth_write() sorts and writes every list to
 * DIR/truth/; it owns nothing the caller passed in.
 */
#ifndef TRUTH_H
#define TRUTH_H

#include "synth.h"

typedef struct Truth Truth;

Truth *truth_new(int32_t asof);
void truth_add_division(Truth *t, const char *code, const char *level);
void truth_person(Truth *t, const Bundle *b);
/* Write DIR/truth/<list>.csv; false on an I/O error (message on stderr). */
bool truth_write(Truth *t, const char *truth_dir);
/* Rows of list i (0 <= i < truth_list_count()), for the summary. */
int truth_list_count(void);
const char *truth_list_name(int i);
size_t truth_list_rows(const Truth *t, int i);
void truth_free(Truth *t);

#endif
