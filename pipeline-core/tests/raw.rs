//! Reading raw extracts (spec: "Raw extracts"): `raw::read_strings` then `raw::parse_columns` (the base
//! `normalize`). Bad rows are rejected with their 1-based file line number (the header is line 1) and a reason;
//! missing columns and empty files are errors naming the file.

mod common;

use common::*;
use pipeline_core::raw::{ParsedTable, Rejected, parse_columns, read_strings};
use pipeline_core::stages::BucketKind;
use pipeline_core::{Market, Stage, Table};

fn parse(table: Table, text: &str) -> ParsedTable {
    let market = TestMarket::new();
    let raw = read_strings(&raw_file(table, text), &market.config().raw).unwrap();
    parse_columns(raw, &table.columns(), &market.config().raw).unwrap()
}

fn parse_err(table: Table, text: &str) -> String {
    let market = TestMarket::new();
    match read_strings(&raw_file(table, text), &market.config().raw) {
        Err(e) => e.to_string(),
        Ok(raw) => parse_columns(raw, &table.columns(), &market.config().raw).unwrap_err().to_string(),
    }
}

fn rejected(line: u64, reason: &str, text: &str) -> Rejected {
    Rejected { line, reason: reason.into(), text: text.into() }
}

const ORDERS_HEADER: &str = "order_id,customer_id,order_date,quantity,amount";

#[test]
fn rows_with_too_few_or_too_many_fields_are_rejected_with_line_and_counts() {
    let text = format!(
        "{ORDERS_HEADER}\nO1,C1,2026-01-02,1,10.5\nO2,C1,2026-01-03,1\nO3,C1,2026-01-03,1,2.0,extra\nO4,C2,2026-01-04,2,3.25\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 1, 2), 1, 10.5), ("O4", "C2", d(2026, 1, 4), 2, 3.25)]),
    );
    assert_eq!(
        parsed.rejected,
        [
            rejected(3, "expected 5 fields, found 4", "O2,C1,2026-01-03,1"),
            rejected(4, "expected 5 fields, found 6", "O3,C1,2026-01-03,1,2.0,extra"),
        ]
    );
    assert_eq!(parsed.data_lines, 4);
}

#[test]
fn unparseable_date_is_rejected_naming_column_value_and_format() {
    let text = "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n\
                C1,A,R1,en,2024-01-01,true,false,false\n\
                C2,B,R1,en,2026-02-30,true,false,false\n\
                C3,B,R1,en,01/02/2024,true,false,false\n";
    let parsed = parse(Table::Customers, text);
    // doi_confirmed is absent from the extract: true for every row.
    let expected = customers(&[Customer { segment: "A", email: Some(true), ..customer("C1") }]);
    assert_frame_eq(&parsed.frame, &expected);
    assert_eq!(
        parsed.rejected,
        [
            rejected(
                3,
                "column 'signup_date': cannot parse '2026-02-30' as date (expected %Y-%m-%d)",
                "C2,B,R1,en,2026-02-30,true,false,false"
            ),
            rejected(
                4,
                "column 'signup_date': cannot parse '01/02/2024' as date (expected %Y-%m-%d)",
                "C3,B,R1,en,01/02/2024,true,false,false"
            ),
        ]
    );
}

#[test]
fn unparseable_numbers_are_rejected_naming_column_and_value() {
    let text = format!(
        "{ORDERS_HEADER}\nO1,C1,2026-01-02,1,12.3.4\nO2,C1,2026-01-02,1.5,2.0\nO3,C1,2026-01-02,two,2.0\nO4,C1,2026-01-02,3,7\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_frame_eq(&parsed.frame, &orders(&[("O4", "C1", d(2026, 1, 2), 3, 7.0)]));
    assert_eq!(
        parsed.rejected,
        [
            rejected(2, "column 'amount': cannot parse '12.3.4' as number", "O1,C1,2026-01-02,1,12.3.4"),
            rejected(3, "column 'quantity': cannot parse '1.5' as integer", "O2,C1,2026-01-02,1.5,2.0"),
            rejected(4, "column 'quantity': cannot parse 'two' as integer", "O3,C1,2026-01-02,two,2.0"),
        ]
    );
}

#[test]
fn unparseable_boolean_token_is_rejected_listing_the_accepted_tokens() {
    let text = "interaction_id,customer_id,channel,ts,opened,clicked\n\
                I1,C1,email,2026-11-01 09:00:00,yes,false\n\
                I2,C1,email,2026-11-01 09:00:00,true,1\n\
                I3,C1,email,2026-11-01 09:00:00,true,false\n";
    let parsed = parse(Table::Interactions, text);
    assert_frame_eq(&parsed.frame, &interactions(&[("I3", "C1", "email", dt(2026, 11, 1, 9, 0, 0), true, false)]));
    assert_eq!(
        parsed.rejected,
        [
            rejected(
                2,
                "column 'opened': cannot parse 'yes' as boolean (expected one of 'true', 'false')",
                "I1,C1,email,2026-11-01 09:00:00,yes,false"
            ),
            rejected(
                3,
                "column 'clicked': cannot parse '1' as boolean (expected one of 'true', 'false')",
                "I2,C1,email,2026-11-01 09:00:00,true,1"
            ),
        ]
    );
}

#[test]
fn unparseable_datetime_is_rejected_naming_the_format() {
    let text = "interaction_id,customer_id,channel,ts,opened,clicked\n\
                I1,C1,sms,2026-11-01T09:00:00,false,false\n\
                I2,C1,sms,2026-11-01 25:00:00,false,false\n\
                I3,C1,sms,2026-11-01 23:59:59,false,true\n";
    let parsed = parse(Table::Interactions, text);
    assert_frame_eq(&parsed.frame, &interactions(&[("I3", "C1", "sms", dt(2026, 11, 1, 23, 59, 59), false, true)]));
    assert_eq!(
        parsed.rejected,
        [
            rejected(
                2,
                "column 'ts': cannot parse '2026-11-01T09:00:00' as datetime (expected %Y-%m-%d %H:%M:%S)",
                "I1,C1,sms,2026-11-01T09:00:00,false,false"
            ),
            rejected(
                3,
                "column 'ts': cannot parse '2026-11-01 25:00:00' as datetime (expected %Y-%m-%d %H:%M:%S)",
                "I2,C1,sms,2026-11-01 25:00:00,false,false"
            ),
        ]
    );
}

#[test]
fn first_bad_column_in_canonical_order_is_the_reason() {
    let text = format!("{ORDERS_HEADER}\nO1,C1,2026-13-01,x,y\n");
    let parsed = parse(Table::Orders, &text);
    assert_eq!(
        parsed.rejected,
        [rejected(
            2,
            "column 'order_date': cannot parse '2026-13-01' as date (expected %Y-%m-%d)",
            "O1,C1,2026-13-01,x,y"
        )]
    );
    assert_eq!(parsed.frame.height(), 0);
}

#[test]
fn blank_lines_are_not_data_lines_and_keep_line_numbers_physical() {
    let text = format!(
        "{ORDERS_HEADER}\nO1,C1,2026-01-02,1,1.0\n\nO2,C1,2026-01-02,x,1.0\n\n\nO3,C1,2026-01-02\nO4,C1,2026-01-03,2,2.0\n\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_eq!(parsed.data_lines, 4, "O1..O4; the four blank lines do not count");
    assert_eq!(
        parsed.rejected,
        [
            rejected(4, "column 'quantity': cannot parse 'x' as integer", "O2,C1,2026-01-02,x,1.0"),
            rejected(7, "expected 5 fields, found 3", "O3,C1,2026-01-02"),
        ]
    );
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 1, 2), 1, 1.0), ("O4", "C1", d(2026, 1, 3), 2, 2.0)]),
    );
}

#[test]
fn crlf_line_endings_parse_like_lf_when_every_row_is_good() {
    let text = "interaction_id,customer_id,channel,ts,opened,clicked\r\n\
                I1,C1,email,2026-11-01 09:00:00,true,false\r\n\
                I2,C2,web,2026-11-02 10:30:00,false,true\r\n";
    let parsed = parse(Table::Interactions, text);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    assert_eq!(parsed.data_lines, 2);
    assert_frame_eq(
        &parsed.frame,
        &interactions(&[
            ("I1", "C1", "email", dt(2026, 11, 1, 9, 0, 0), true, false),
            ("I2", "C2", "web", dt(2026, 11, 2, 10, 30, 0), false, true),
        ]),
    );
}

#[test]
fn crlf_line_endings_parse_like_lf_when_some_rows_are_rejected() {
    let text = format!(
        "{ORDERS_HEADER}\r\nO1,C1,2026-01-02,1,10.5\r\nO2,C1\r\n\r\nO3,C1,2026-01-02,1,x\r\nO4,C2,2026-01-04,2,3.25\r\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_eq!(parsed.data_lines, 4);
    assert_eq!(
        parsed.rejected,
        [
            rejected(3, "expected 5 fields, found 2", "O2,C1"),
            rejected(5, "column 'amount': cannot parse 'x' as number", "O3,C1,2026-01-02,1,x"),
        ]
    );
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 1, 2), 1, 10.5), ("O4", "C2", d(2026, 1, 4), 2, 3.25)]),
    );
}

#[test]
fn utf8_byte_order_mark_is_not_part_of_the_first_column_name() {
    let text = format!("\u{feff}{ORDERS_HEADER}\nO1,C1,2026-01-02,1,10.5\n");
    let parsed = parse(Table::Orders, &text);
    assert_frame_eq(&parsed.frame, &orders(&[("O1", "C1", d(2026, 1, 2), 1, 10.5)]));
}

#[test]
fn missing_required_column_error_names_the_file_url_and_the_column() {
    let text = "interaction_id,customer_id,channel,opened,clicked\nI1,C1,email,true,false\n";
    assert_eq!(
        parse_err(Table::Interactions, text),
        "raw file s3://raw/foobar-xx/interactions.csv is missing required column 'ts' \
         (header has: interaction_id,customer_id,channel,opened,clicked)"
    );
}

#[test]
fn header_only_file_is_an_empty_file_error_naming_the_file() {
    assert_eq!(
        parse_err(Table::Orders, &format!("{ORDERS_HEADER}\n")),
        "raw file s3://raw/foobar-xx/orders.csv has no data rows: the extract is empty"
    );
}

#[test]
fn header_and_blank_lines_only_is_an_empty_file_error() {
    assert_eq!(
        parse_err(Table::Orders, &format!("{ORDERS_HEADER}\r\n\r\n\n")),
        "raw file s3://raw/foobar-xx/orders.csv has no data rows: the extract is empty"
    );
}

#[test]
fn zero_byte_file_is_an_empty_file_error_naming_the_file() {
    assert_eq!(
        parse_err(Table::Customers, ""),
        "raw file s3://raw/foobar-xx/customers.csv has no data rows: the extract is empty"
    );
}

#[test]
fn ingest_quarantines_rejected_rows_with_line_reason_and_original_text() {
    let files = vec![
        raw_file(
            Table::Customers,
            "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n\
             C1,A,R1,en,2024-01-01,true,false,false\n",
        ),
        raw_file(Table::Orders, &format!("{ORDERS_HEADER}\nO1,C1,2026-01-02,1,1.0\nO2,C1\nO3,C1,2026-01-02,x,1.0\n")),
        raw_file(
            Table::Interactions,
            "interaction_id,customer_id,channel,ts,opened,clicked\nI1,C1,email,2026-11-01 09:00:00,true,false\n",
        ),
    ];
    let out = run(Stage::Ingest, &TestMarket::new(), as_of(), &raw_inputs(files));
    assert_eq!(out.artifacts.len(), 1, "only orders had rejected rows");
    let q = &out.artifacts[0];
    assert_eq!((q.bucket, q.key.as_str()), (BucketKind::Quarantine, "foobar-xx/run-1/orders.csv"));
    assert_eq!(
        std::str::from_utf8(&q.bytes).unwrap(),
        "line,reason,raw_line\n\
         3,\"expected 5 fields, found 2\",\"O2,C1\"\n\
         4,column 'quantity': cannot parse 'x' as integer,\"O3,C1,2026-01-02,x,1.0\"\n"
    );
    let names: Vec<&str> = out.tables.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["customers", "orders", "interactions"]);
    assert_frame_eq(table(&out, "orders"), &orders(&[("O1", "C1", d(2026, 1, 2), 1, 1.0)]));
    assert_eq!(out.rejected[&Table::Orders].1, 3, "three data lines in orders.csv");
    assert_eq!(out.rejected[&Table::Customers], (vec![], 1));
}

// ---------------------------------------------------------------------------------------------------------------
// Bad bytes (issue 15): one bad line is quarantined, never the whole file.

fn parse_bytes(table: Table, bytes: &[u8]) -> ParsedTable {
    let market = TestMarket::new();
    let mut file = raw_file(table, "");
    file.bytes = bytes.to_vec().into();
    let raw = read_strings(&file, &market.config().raw).unwrap();
    parse_columns(raw, &table.columns(), &market.config().raw).unwrap()
}

#[test]
fn invalid_utf8_quarantines_only_its_line_and_the_rest_is_read() {
    let mut bytes = format!("{ORDERS_HEADER}\nO1,C1,2026-01-02,1,10.5\nO2,C").into_bytes();
    bytes.extend_from_slice(b"\xff\xfe1,2026-01-02,1,2.0\nO3,C\xc3\xa9,2026-01-03,2,3.25\n");
    let parsed = parse_bytes(Table::Orders, &bytes);
    // Bytes count from 0 in the file: the header (47 + 1), line 2 (23 + 1) and "O2,C" come before the bad byte.
    assert_eq!(parsed.rejected, [rejected(3, "invalid UTF-8 at byte 76", "O2,C\u{fffd}\u{fffd}1,2026-01-02,1,2.0")]);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O1", "C1", d(2026, 1, 2), 1, 10.5), ("O3", "Cé", d(2026, 1, 3), 2, 3.25)]),
    );
    assert_eq!(parsed.data_lines, 3);
}

#[test]
fn invalid_utf8_offset_counts_the_byte_order_mark() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(format!("{ORDERS_HEADER}\nO1,C1,2026-01-02,1,").as_bytes());
    bytes.extend_from_slice(b"\x80\n");
    let parsed = parse_bytes(Table::Orders, &bytes);
    assert_eq!(parsed.rejected, [rejected(2, "invalid UTF-8 at byte 70", "O1,C1,2026-01-02,1,\u{fffd}")]);
    assert_eq!(parsed.frame.height(), 0);
}

#[test]
fn an_unbalanced_quote_quarantines_one_line_and_the_rest_is_read() {
    // A quote opening a field that never closes used to swallow the rest of the file into one error.
    let text = format!(
        "{ORDERS_HEADER}\nO1,C1,2026-01-02,1,1.0\nO2,\"C1,2026-01-02,1,2.0\nO3,C1,2026-01-03,1,3.0\n\
         O4,C1\"x,2026-01-04,1,4.0\nO5,C2,2026-01-05,5,5.0\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_eq!(
        parsed.rejected,
        [
            rejected(3, "unbalanced quote", "O2,\"C1,2026-01-02,1,2.0"),
            rejected(5, "unbalanced quote", "O4,C1\"x,2026-01-04,1,4.0"),
        ]
    );
    assert_frame_eq(
        &parsed.frame,
        &orders(&[
            ("O1", "C1", d(2026, 1, 2), 1, 1.0),
            ("O3", "C1", d(2026, 1, 3), 1, 3.0),
            ("O5", "C2", d(2026, 1, 5), 5, 5.0),
        ]),
    );
    assert_eq!(parsed.data_lines, 5);
}

#[test]
fn an_unbalanced_quote_in_the_last_field_does_not_swallow_the_rest_of_the_file() {
    // The field count matches the header, so only the quote gives it away; the reader used to read on to the end
    // of the file and fail the market with all of it in the message.
    let text = format!("{ORDERS_HEADER}\nO1,C1,2026-01-02,1,\"1.0\nO2,C1,2026-01-03,1,2.0\nO3,C2,2026-01-04,2,3.0\n");
    let parsed = parse(Table::Orders, &text);
    assert_eq!(parsed.rejected, [rejected(2, "unbalanced quote", "O1,C1,2026-01-02,1,\"1.0")]);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O2", "C1", d(2026, 1, 3), 1, 2.0), ("O3", "C2", d(2026, 1, 4), 2, 3.0)]),
    );
    assert_eq!(parsed.data_lines, 3);
}

#[test]
fn an_unbalanced_quote_spanning_to_a_later_quote_costs_only_its_own_line() {
    // The stray quote on line 3 would pair with the quoted field on line 5; the record they make has the wrong
    // field count, so only line 3 is quarantined and line 5 is read as written.
    let text = format!(
        "{ORDERS_HEADER}\nO1,C1,2026-01-02,1,1.0\nO2,\"C1,2026-01-02,1,2.0\nO3,C1,2026-01-03,1,3.0\n\
         O4,\"C,1\",2026-01-04,1,4.0\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_eq!(parsed.rejected, [rejected(3, "unbalanced quote", "O2,\"C1,2026-01-02,1,2.0")]);
    assert_frame_eq(
        &parsed.frame,
        &orders(&[
            ("O1", "C1", d(2026, 1, 2), 1, 1.0),
            ("O3", "C1", d(2026, 1, 3), 1, 3.0),
            ("O4", "C,1", d(2026, 1, 4), 1, 4.0),
        ]),
    );
}

#[test]
fn a_quoted_field_with_a_line_break_is_one_record_numbered_by_its_first_line() {
    let text = "customer_id,segment,region,language,signup_date,email_opt_in,sms_opt_in,phone_opt_in\n\
                C1,A,\"North\nCoast\",en,2024-01-01,true,false,false\n\
                C2,B,R1,en,2024-13-01,true,false,false\n\
                C3,B,\"Line\r\nbreak\",en,2024-99-01,true,false,false\n\
                C4,A,R2,en,2024-01-02,false,false,false\n";
    let parsed = parse(Table::Customers, text);
    assert_eq!(
        parsed.rejected,
        [
            rejected(
                4,
                "column 'signup_date': cannot parse '2024-13-01' as date (expected %Y-%m-%d)",
                "C2,B,R1,en,2024-13-01,true,false,false"
            ),
            rejected(
                5,
                "column 'signup_date': cannot parse '2024-99-01' as date (expected %Y-%m-%d)",
                "C3,B,\"Line\r\nbreak\",en,2024-99-01,true,false,false"
            ),
        ]
    );
    let mut expected = customers(&[
        Customer { segment: "A", email: Some(true), ..customer("C1") },
        Customer { segment: "A", signup: d(2024, 1, 2), ..customer("C4") },
    ]);
    expected.with_column(polars::prelude::Column::new("region".into(), ["North\nCoast", "R2"])).unwrap();
    assert_frame_eq(&parsed.frame, &expected);
    assert_eq!(parsed.data_lines, 4);
}

#[test]
fn nan_and_infinite_amounts_are_quarantined_naming_the_column() {
    let text = format!(
        "{ORDERS_HEADER}\nO1,C1,2026-01-02,1,NaN\nO2,C1,2026-01-02,1,inf\nO3,C1,2026-01-02,1,-inf\n\
         O4,C1,2026-01-02,1,4.5\nO5,C1,2026-01-02,1,1e12\n"
    );
    let parsed = parse(Table::Orders, &text);
    assert_eq!(
        parsed.rejected,
        [
            rejected(2, "column 'amount': 'NaN' is not a finite number", "O1,C1,2026-01-02,1,NaN"),
            rejected(3, "column 'amount': 'inf' is not a finite number", "O2,C1,2026-01-02,1,inf"),
            rejected(4, "column 'amount': '-inf' is not a finite number", "O3,C1,2026-01-02,1,-inf"),
        ]
    );
    // 1e12 is finite: ingest keeps it and validate's plausibility bound flags it (see checks.rs).
    assert_frame_eq(
        &parsed.frame,
        &orders(&[("O4", "C1", d(2026, 1, 2), 1, 4.5), ("O5", "C1", d(2026, 1, 2), 1, 1e12)]),
    );
}

#[test]
fn a_duplicate_header_name_is_an_error_naming_the_column_and_file() {
    assert_eq!(
        parse_err(
            Table::Orders,
            "order_id,customer_id,order_date,amount,quantity,amount\nO1,C1,2026-01-02,1.0,1,2.0\n"
        ),
        "raw file s3://raw/foobar-xx/orders.csv has column 'amount' twice in its header: rename or drop one of them \
         in the extract"
    );
}

#[test]
fn a_header_that_is_not_utf8_is_an_error_naming_the_file() {
    let market = TestMarket::new();
    let mut file = raw_file(Table::Orders, "");
    file.bytes = b"order_id,customer_id,order_d\xe4te,quantity,amount\nO1,C1,2026-01-02,1,1.0\n".to_vec().into();
    assert_eq!(
        read_strings(&file, &market.config().raw).unwrap_err().to_string(),
        "raw file s3://raw/foobar-xx/orders.csv: its header row is not valid UTF-8 (at byte 28): fix the extract's \
         first line"
    );
}

#[test]
fn error_messages_are_bounded_to_500_characters_saying_how_many_were_cut() {
    use pipeline_core::error::bounded;
    let short = "x".repeat(500);
    assert_eq!(bounded(&short), short, "500 characters are kept whole");
    let long = format!("cannot read: {}", "é".repeat(316_730));
    let cut = bounded(&long);
    assert_eq!(cut.chars().count(), 500);
    let suffix = "… (316,274 more characters cut)";
    assert!(cut.ends_with(suffix), "{cut}");
    assert_eq!(cut, format!("cannot read: {}{suffix}", "é".repeat(500 - 13 - suffix.chars().count())));
}
