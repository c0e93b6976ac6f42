package dev.schemagate.runner;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fingerprint of the managed schema, for drift detection (the Job contract's {@code schema}):
 * one canonical text per table (columns, constraints, indexes) from the PostgreSQL catalog, a
 * digest per table (8 hex digits of its SHA-256) and one over all of them (16 hex digits). The
 * query is schema-fingerprint.sql, which the Alembic kit is built with, so both tools give the same
 * fingerprint for the same schema. Views, functions, sequences and grants are not in it.
 */
record SchemaFingerprint(String fingerprint, Map<String, String> tables) {
  static final String SQL = resource("schema-fingerprint.sql");

  /**
   * Reads the tables of {@code schema} but {@code historyTable}, with search_path set to pg_catalog
   * for the query (names outside it come out schema-qualified whatever the connection's
   * search_path) and set back after it.
   */
  static SchemaFingerprint read(Connection connection, String schema, String historyTable)
      throws SQLException {
    String searchPath;
    try (Statement s = connection.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('search_path')")) {
      rs.next();
      searchPath = rs.getString(1);
    }
    setSearchPath(connection, "pg_catalog");
    try (PreparedStatement query =
        connection.prepareStatement(SQL.replace(":schema", "?").replace(":history", "?"))) {
      query.setString(1, schema);
      query.setString(2, historyTable);
      Map<String, String> texts = new LinkedHashMap<>();
      try (ResultSet rs = query.executeQuery()) {
        while (rs.next()) {
          texts.put(rs.getString(1) + "." + rs.getString(2), rs.getString(3));
        }
      }
      return of(texts);
    } finally {
      setSearchPath(connection, searchPath);
    }
  }

  /** The fingerprint of canonical texts by {@code <schema>.<name>}, in the query's order. */
  static SchemaFingerprint of(Map<String, String> texts) {
    Map<String, String> tables = new LinkedHashMap<>();
    StringBuilder all = new StringBuilder();
    for (Map.Entry<String, String> table : texts.entrySet()) {
      tables.put(table.getKey(), sha256(table.getValue(), 8));
      all.append(table.getValue()).append("\n\n");
    }
    return new SchemaFingerprint(sha256(all.toString(), 16), tables);
  }

  /** The result's {@code schema} object; without the tables when they do not fit. */
  Map<String, Object> toMap(boolean withTables) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("fingerprint", fingerprint);
    if (withTables) {
      out.put("tables", new LinkedHashMap<String, Object>(tables));
    } else {
      out.put("tablesOmitted", true);
    }
    return out;
  }

  private static void setSearchPath(Connection connection, String value) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement("SELECT set_config('search_path', ?, false)")) {
      s.setString(1, value);
      s.execute();
    }
  }

  static String sha256(String text, int hexDigits) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, hexDigits);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String resource(String name) {
    try (InputStream in = SchemaFingerprint.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
