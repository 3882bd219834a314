/*
 * factkind — the catalogue of fact kinds and their canonical fields.
 *
 * A source definition maps an agency's columns onto the canonical fields of one fact kind;
 * this table is what the definition checker validates against (unknown kind or field, a code
 * value that is not one of the field's values) and what the engine reads facts through.  The
 * catalogue is data: adding a field here is the only C change a new *kind* of information
 * needs; adding a source needs none.
 */
#ifndef CANBAO_FACTKIND_H
#define CANBAO_FACTKIND_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    FK_REGISTER, FK_DEATH, FK_RESIDENT_PENSION, FK_PENSION_PAYMENT, FK_EMPLOYEE_PENSION,
    FK_INSTITUTION_PENSION, FK_STUDENT, FK_PRISON, FK_DISABILITY, FK_DIBAO, FK_TEKUN,
    FK_POOR_HOUSEHOLD, FK_PROVIDENT_FUND, FK_EMPLOYEE_MEDICAL, FK_MEDICAL_CLAIM,
    FK_ENTERPRISE_ROSTER, FK_TAX_COLLECTION, FK_CERTIFICATION,
    FK_COUNT
} FactKind;

typedef enum {
    FT_IDNUM,   /* GB 11643 ID number */
    FT_TEXT,
    FT_DATE,    /* a day */
    FT_MONTH,   /* a calendar month */
    FT_MONEY,   /* yuan, kept as fen */
    FT_INT,
    FT_ENUM     /* one of the field's values */
} FieldType;

/* Where a canonical field lands in a Fact (see facts.h).  Register fields land in a Person. */
typedef enum {
    SLOT_NONE,     /* kept only as text (register strings) or ignored */
    SLOT_PERSON,   /* the id_number */
    SLOT_D1,       /* start / event date or month */
    SLOT_D2,       /* end date */
    SLOT_CODE,     /* enum value index or int */
    SLOT_AMOUNT,   /* money in fen */
    SLOT_AMOUNT2
} FieldSlot;

#define FIELD_MAX_VALUES 8

typedef struct FieldSpec {
    const char *name;
    FieldType   type;
    bool        required;
    FieldSlot   slot;
    const char *values[FIELD_MAX_VALUES];   /* FT_ENUM: allowed values, NULL-terminated */
} FieldSpec;

#define KIND_MAX_FIELDS 16

typedef struct KindSpec {
    const char *name;
    FieldSpec   fields[KIND_MAX_FIELDS];    /* terminated by name == NULL */
} KindSpec;

/* Evidence kinds of a death fact (the source definition's `evidence`; `township` is a village
 * clerk's 已死亡 answer in a returned workbook: to verify only, never confirming). */
typedef enum { EV_POLICE, EV_HEALTH, EV_CIVIL, EV_COURT, EV_MEDICAL, EV_TOWNSHIP, EV_COUNT } Evidence;

const KindSpec  *factkind_spec(FactKind k);
bool             factkind_lookup(const char *name, FactKind *out);
const char      *factkind_name(FactKind k);
/* Index of a field of kind k by name, or -1. */
int              factkind_field(FactKind k, const char *name);
/* The type of the field in slot d1 when it is a day or a month (FT_DATE, FT_MONTH), else -1. */
int              factkind_d1_type(FactKind k);
/* Index of an enum value of a field, or -1. */
int              factkind_enum_value(const FieldSpec *f, const char *value);
bool             evidence_lookup(const char *name, Evidence *out);
const char      *evidence_name(Evidence e);

/* Enum value indexes the engine tests for (must match the tables in factkind.c). */
enum { SEX_MALE = 0, SEX_FEMALE = 1 };
enum { REG_ACTIVE = 0, REG_CANCELLED = 1 };
enum { CANCEL_DEATH = 0, CANCEL_MOVED_OUT = 1, CANCEL_OTHER = 2 };
enum { RP_CONTRIBUTING = 0, RP_RECEIVING = 1, RP_SUSPENDED = 2, RP_TERMINATED = 3 };
enum { PRISON_PRISON = 0, PRISON_COMMUNITY = 1 };
enum { TAX_PERSONAL = 0, TAX_COLLECTIVE = 1, TAX_DONOR = 2 };

#endif
