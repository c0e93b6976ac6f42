package dev.schemagate.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison of a live schema with the recorded one, and the schema object it reads. */
class SchemaDiffTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, String> RECORDED =
      Map.of(
          "public.orders", "aaaaaaaa",
          "public.customers", "bbbbbbbb",
          "public.items", "cccccccc");

  static SchemaFingerprint live(String fingerprint, Map<String, String> tables) {
    return new SchemaFingerprint(fingerprint, tables, false);
  }

  @Test
  void theSameFingerprintIsNoDrift() {
    SchemaDiff diff =
        SchemaDiff.between("1111111111111111", RECORDED, false, live("1111111111111111", RECORDED));
    assertThat(diff.drifted()).isFalse();
    assertThat(diff.summary()).isEqualTo("no difference");
  }

  @Test
  void namesTheTablesChangedAddedAndRemovedInNameOrder() {
    Map<String, String> now = new LinkedHashMap<>();
    now.put("public.orders", "dddddddd");
    now.put("public.customers", "bbbbbbbb");
    now.put("public.zeta", "eeeeeeee");
    now.put("public.audit", "ffffffff");
    SchemaDiff diff =
        SchemaDiff.between("1111111111111111", RECORDED, false, live("2222222222222222", now));
    assertThat(diff.drifted()).isTrue();
    assertThat(diff.changed()).containsExactly("public.orders");
    assertThat(diff.added()).containsExactly("public.audit", "public.zeta");
    assertThat(diff.removed()).containsExactly("public.items");
    assertThat(diff.summary())
        .isEqualTo("changed public.orders; added public.audit, public.zeta; removed public.items");
  }

  @Test
  void withoutPerTableDigestsTheDriftIsFoundButNotNamed() {
    SchemaDiff recordedOmitted =
        SchemaDiff.between("1111111111111111", null, true, live("2222222222222222", RECORDED));
    assertThat(recordedOmitted.drifted()).isTrue();
    assertThat(recordedOmitted.named()).isFalse();
    assertThat(recordedOmitted.summary()).contains("the fingerprints differ", "not named");
    SchemaDiff liveOmitted =
        SchemaDiff.between(
            "1111111111111111",
            RECORDED,
            false,
            new SchemaFingerprint("2222222222222222", Map.of(), true));
    assertThat(liveOmitted.named()).isFalse();
  }

  @Test
  void aLongListIsCutAtTwentyNamesAndCountsTheRest() {
    Map<String, String> now = new LinkedHashMap<>(RECORDED);
    for (int i = 0; i < 25; i++) {
      now.put(String.format("public.t%02d", i), "0000000" + (i % 10));
    }
    SchemaDiff diff =
        SchemaDiff.between("1111111111111111", RECORDED, false, live("2222222222222222", now));
    assertThat(diff.added()).hasSize(25);
    assertThat(SchemaDiff.firstNamed(diff.added())).hasSize(20);
    assertThat(diff.summary()).startsWith("added public.t00, public.t01").endsWith("and 5 more");
  }

  @Test
  void readsTheContractsSchemaObjectAndRefusesOtherShapes() throws Exception {
    var ok =
        SchemaFingerprint.of(
            JSON.readTree(
                "{\"fingerprint\":\"0123456789abcdef\",\"tables\":{\"public.b\":\"0000000b\","
                    + "\"public.a\":\"0000000a\"}}"));
    assertThat(ok).isPresent();
    assertThat(ok.get().tables().keySet()).containsExactly("public.a", "public.b");
    assertThat(ok.get().tablesOmitted()).isFalse();

    var omitted =
        SchemaFingerprint.of(
            JSON.readTree("{\"fingerprint\":\"0123456789abcdef\",\"tablesOmitted\":true}"));
    assertThat(omitted.get().tablesOmitted()).isTrue();
    assertThat(omitted.get().tables()).isEmpty();

    var badDigest =
        SchemaFingerprint.of(
            JSON.readTree(
                "{\"fingerprint\":\"0123456789abcdef\",\"tables\":{\"public.a\":\"nothex!!\"}}"));
    assertThat(badDigest.get().tablesOmitted()).as("no partial list").isTrue();

    assertThat(SchemaFingerprint.of(JSON.readTree("{\"fingerprint\":\"short\"}"))).isEmpty();
    assertThat(SchemaFingerprint.of(null)).isEmpty();
  }

  @Test
  void aRunsResultCarriesItsSchemaAndACheckThatFoundAMigrationRunningReportsSkipped() {
    RunResult run =
        ResultParser.parse(
            "{\"tool\":\"flyway\",\"direction\":\"upgrade\",\"fromRevision\":\"\","
                + "\"toRevision\":\"2\",\"applied\":[],\"schema\":{\"fingerprint\":"
                + "\"0123456789abcdef\",\"tables\":{\"public.app_user\":\"0a1b2c3d\"}}}");
    assertThat(run.schema().fingerprint()).isEqualTo("0123456789abcdef");
    assertThat(run.schema().tables()).containsEntry("public.app_user", "0a1b2c3d");
    assertThat(ResultParser.parse("{\"toRevision\":\"2\",\"applied\":[]}").schema()).isNull();

    CheckResult skipped =
        CheckResult.read(
                "{\"tool\":\"flyway\",\"direction\":\"check\",\"skipped\":\"MigrationRunning\"}")
            .orElseThrow();
    assertThat(skipped.skipped()).isEqualTo("MigrationRunning");
    assertThat(skipped.schema()).isNull();
    assertThat(CheckResult.read("not json")).isEmpty();
  }
}
