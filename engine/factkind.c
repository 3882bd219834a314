#include "factkind.h"

#include <string.h>

#define ID_FIELD {"id_number", FT_IDNUM, true, SLOT_PERSON, {0}}
#define NAME_FIELD {"name", FT_TEXT, false, SLOT_NONE, {0}}
#define START_END(req) {"start_date", FT_DATE, (req), SLOT_D1, {0}}, \
                       {"end_date", FT_DATE, false, SLOT_D2, {0}}
/* Identifying fields (identity.h): optional evidence that lets a mistyped ID number be repaired
 * against the register only when name, sex and birth date agree.  Appended after a kind's own
 * fields so that their indexes do not move. */
#define SEX_FIELD {"sex", FT_ENUM, false, SLOT_NONE, {"male", "female"}}
#define BIRTH_FIELD {"birth_date", FT_DATE, false, SLOT_NONE, {0}}
#define PERIOD_KIND(kname) {kname, {ID_FIELD, NAME_FIELD, START_END(true), SEX_FIELD, BIRTH_FIELD, {0}}}

static const KindSpec kinds[FK_COUNT] = {
    [FK_REGISTER] = {"register", {
        ID_FIELD, NAME_FIELD,
        {"sex", FT_ENUM, false, SLOT_NONE, {"male", "female"}},
        {"birth_date", FT_DATE, false, SLOT_NONE, {0}},
        {"ethnicity", FT_TEXT, false, SLOT_NONE, {0}},
        {"household", FT_TEXT, false, SLOT_NONE, {0}},
        {"relation", FT_TEXT, false, SLOT_NONE, {0}},
        {"division", FT_TEXT, true, SLOT_NONE, {0}},
        {"address", FT_TEXT, false, SLOT_NONE, {0}},
        {"phone", FT_TEXT, false, SLOT_NONE, {0}},
        {"status", FT_ENUM, true, SLOT_NONE, {"active", "cancelled"}},
        {"cancel_reason", FT_ENUM, false, SLOT_NONE, {"death", "moved_out", "other"}},
        {"cancel_date", FT_DATE, false, SLOT_NONE, {0}},
        {0}}},
    /* A death can be linked without an ID number (a cremation record often has none): the ID
     * is optional and the record's name, sex, birth date or age, address and division are
     * evidence for probabilistic linkage. */
    [FK_DEATH] = {"death", {
        {"id_number", FT_IDNUM, false, SLOT_PERSON, {0}},
        NAME_FIELD,
        {"sex", FT_ENUM, false, SLOT_NONE, {"male", "female"}},
        {"birth_date", FT_DATE, false, SLOT_NONE, {0}},
        {"death_date", FT_DATE, true, SLOT_D1, {0}},
        {"age", FT_INT, false, SLOT_NONE, {0}},            /* completed years at death */
        {"address", FT_TEXT, false, SLOT_NONE, {0}},
        {"division", FT_TEXT, false, SLOT_NONE, {0}},      /* 12-digit village code */
        {0}}},
    [FK_RESIDENT_PENSION] = {"resident_pension", {
        ID_FIELD, NAME_FIELD,
        {"status", FT_ENUM, true, SLOT_CODE, {"contributing", "receiving", "suspended", "terminated"}},
        {"start_date", FT_DATE, false, SLOT_D1, {0}},
        {"benefit_month", FT_MONTH, false, SLOT_D2, {0}},
        {"monthly_pension", FT_MONEY, false, SLOT_AMOUNT2, {0}},
        {"basic_pension", FT_MONEY, false, SLOT_AMOUNT, {0}},
        {"township", FT_TEXT, false, SLOT_NONE, {0}},
        SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_PENSION_PAYMENT] = {"pension_payment", {
        ID_FIELD,
        {"month", FT_MONTH, true, SLOT_D1, {0}},
        {"basic", FT_MONEY, true, SLOT_AMOUNT, {0}},
        {"account", FT_MONEY, false, SLOT_NONE, {0}},
        {"total", FT_MONEY, false, SLOT_AMOUNT2, {0}},
        NAME_FIELD, SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_EMPLOYEE_PENSION] = PERIOD_KIND("employee_pension"),
    [FK_INSTITUTION_PENSION] = PERIOD_KIND("institution_pension"),
    [FK_STUDENT] = PERIOD_KIND("student"),
    [FK_PRISON] = {"prison", {
        ID_FIELD, NAME_FIELD, START_END(true),
        {"type", FT_ENUM, false, SLOT_CODE, {"prison", "community_correction"}},
        SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_DISABILITY] = {"disability", {
        ID_FIELD, NAME_FIELD,
        {"grade", FT_INT, true, SLOT_CODE, {0}},
        START_END(false),
        SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_DIBAO] = PERIOD_KIND("dibao"),
    [FK_TEKUN] = PERIOD_KIND("tekun"),
    [FK_POOR_HOUSEHOLD] = PERIOD_KIND("poor_household"),
    [FK_PROVIDENT_FUND] = {"provident_fund", {
        ID_FIELD,
        {"month", FT_MONTH, true, SLOT_D1, {0}},
        {"amount", FT_MONEY, false, SLOT_AMOUNT, {0}},
        NAME_FIELD, SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_EMPLOYEE_MEDICAL] = PERIOD_KIND("employee_medical"),
    [FK_MEDICAL_CLAIM] = {"medical_claim", {
        ID_FIELD,
        {"date", FT_DATE, true, SLOT_D1, {0}},
        {"amount", FT_MONEY, false, SLOT_AMOUNT, {0}},
        NAME_FIELD, SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_ENTERPRISE_ROSTER] = PERIOD_KIND("enterprise_roster"),
    [FK_TAX_COLLECTION] = {"tax_collection", {
        ID_FIELD,
        {"date", FT_DATE, true, SLOT_D1, {0}},
        {"amount", FT_MONEY, true, SLOT_AMOUNT, {0}},
        {"type", FT_ENUM, true, SLOT_CODE, {"personal", "collective", "donor"}},
        NAME_FIELD, SEX_FIELD, BIRTH_FIELD,
        {0}}},
    [FK_CERTIFICATION] = {"certification", {
        ID_FIELD,
        {"date", FT_DATE, true, SLOT_D1, {0}},
        NAME_FIELD, SEX_FIELD, BIRTH_FIELD,
        {0}}},
};

static const char *evidence_names[EV_COUNT] = {"police", "health", "civil", "court", "medical", "township"};

const KindSpec *
factkind_spec(FactKind k)
{
    return &kinds[k];
}

const char *
factkind_name(FactKind k)
{
    return kinds[k].name;
}

bool
factkind_lookup(const char *name, FactKind *out)
{
    for (int k = 0; k < FK_COUNT; k++)
        if (strcmp(kinds[k].name, name) == 0) {
            *out = (FactKind) k;
            return true;
        }
    return false;
}

int
factkind_field(FactKind k, const char *name)
{
    for (int i = 0; kinds[k].fields[i].name != NULL; i++)
        if (strcmp(kinds[k].fields[i].name, name) == 0)
            return i;
    return -1;
}

int
factkind_d1_type(FactKind k)
{
    for (int i = 0; kinds[k].fields[i].name != NULL; i++)
        if (kinds[k].fields[i].slot == SLOT_D1)
            return kinds[k].fields[i].type == FT_DATE || kinds[k].fields[i].type == FT_MONTH
                       ? (int) kinds[k].fields[i].type : -1;
    return -1;
}

int
factkind_enum_value(const FieldSpec *f, const char *value)
{
    for (int i = 0; i < FIELD_MAX_VALUES && f->values[i] != NULL; i++)
        if (strcmp(f->values[i], value) == 0)
            return i;
    return -1;
}

bool
evidence_lookup(const char *name, Evidence *out)
{
    for (int e = 0; e < EV_COUNT; e++)
        if (strcmp(evidence_names[e], name) == 0) {
            *out = (Evidence) e;
            return true;
        }
    return false;
}

const char *
evidence_name(Evidence e)
{
    return evidence_names[e];
}
