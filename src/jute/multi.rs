//! The multi request and response (opcodes 14 and 22).
//!
//! Not generated from the schema in Java but hand-written around
//! `MultiHeader`: each op is a header `{type, done=false, err=-1}` and the
//! op's request record; the list ends with `{-1, true, -1}`. Results are
//! framed the same way, with the error code in the header.
//!
//! Mirrors: `org.apache.zookeeper.MultiOperationRecord`, `MultiResponse`.

use std::io::{Read, Write};

use super::data::Stat;
use super::proto::{
    CheckVersionRequest, Create2Response, CreateRequest, CreateResponse, CreateTtlRequest,
    DeleteRequest, ErrorResponse, GetChildrenRequest, GetChildrenResponse, GetDataRequest,
    GetDataResponse, MultiHeader, SetDataRequest, SetDataResponse,
};
use super::{Error, InputArchive, OutputArchive, Record, Result};
use crate::zoo_defs::op_code;

/// One op of a multi request, with the opcode its header carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// create (1), create2 (15) or createContainer (19); the opcode is kept.
    Create(i32, CreateRequest),
    /// createTTL (21).
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    /// Only in multiRead.
    GetChildren(GetChildrenRequest),
    /// Only in multiRead.
    GetData(GetDataRequest),
}

impl MultiOp {
    /// The opcode written in this op's header.
    pub fn op_code(&self) -> i32 {
        match self {
            MultiOp::Create(code, _) => *code,
            MultiOp::CreateTtl(_) => op_code::CREATE_TTL,
            MultiOp::Delete(_) => op_code::DELETE,
            MultiOp::SetData(_) => op_code::SET_DATA,
            MultiOp::Check(_) => op_code::CHECK,
            MultiOp::GetChildren(_) => op_code::GET_CHILDREN,
            MultiOp::GetData(_) => op_code::GET_DATA,
        }
    }

    /// The path the op acts on.
    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(_, r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
        }
    }

    /// True for the ops allowed in multiRead.
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }

    fn serialize_body<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        match self {
            MultiOp::Create(_, r) => r.serialize(oa),
            MultiOp::CreateTtl(r) => r.serialize(oa),
            MultiOp::Delete(r) => r.serialize(oa),
            MultiOp::SetData(r) => r.serialize(oa),
            MultiOp::Check(r) => r.serialize(oa),
            MultiOp::GetChildren(r) => r.serialize(oa),
            MultiOp::GetData(r) => r.serialize(oa),
        }
    }

    fn deserialize_body<R: Read>(code: i32, ia: &mut InputArchive<R>) -> Result<MultiOp> {
        Ok(match code {
            op_code::CREATE | op_code::CREATE2 | op_code::CREATE_CONTAINER => {
                MultiOp::Create(code, Record::deserialize(ia)?)
            }
            op_code::CREATE_TTL => MultiOp::CreateTtl(Record::deserialize(ia)?),
            op_code::DELETE => MultiOp::Delete(Record::deserialize(ia)?),
            op_code::SET_DATA => MultiOp::SetData(Record::deserialize(ia)?),
            op_code::CHECK => MultiOp::Check(Record::deserialize(ia)?),
            op_code::GET_CHILDREN => MultiOp::GetChildren(Record::deserialize(ia)?),
            op_code::GET_DATA => MultiOp::GetData(Record::deserialize(ia)?),
            other => return Err(Error::Invalid(format!("Invalid type of op {}", other))),
        })
    }
}

/// The header that ends a multi request or response.
fn end_header() -> MultiHeader {
    MultiHeader {
        r#type: -1,
        done: true,
        err: -1,
    }
}

/// A multi or multiRead request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiOperationRecord {
    pub ops: Vec<MultiOp>,
}

impl Record for MultiOperationRecord {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        for op in &self.ops {
            MultiHeader {
                r#type: op.op_code(),
                done: false,
                err: -1,
            }
            .serialize(oa)?;
            op.serialize_body(oa)?;
        }
        end_header().serialize(oa)
    }

    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        let mut ops = Vec::new();
        loop {
            let h = MultiHeader::deserialize(ia)?;
            if h.done {
                return Ok(MultiOperationRecord { ops });
            }
            ops.push(MultiOp::deserialize_body(h.r#type, ia)?);
        }
    }
}

/// One result of a multi or multiRead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// Result type 1: a create without stat.
    Create { path: String },
    /// Result type 15: create2/createContainer/createTTL, with stat.
    Create2 { path: String, stat: Stat },
    /// Result type 2.
    Delete,
    /// Result type 5.
    SetData { stat: Stat },
    /// Result type 13.
    Check,
    /// Result type 8 (multiRead).
    GetChildren { children: Vec<String> },
    /// Result type 4 (multiRead).
    GetData { data: Option<Vec<u8>>, stat: Stat },
    /// Result type -1: the op's error code.
    Error { err: i32 },
}

impl OpResult {
    /// The type written in this result's header.
    pub fn result_type(&self) -> i32 {
        match self {
            OpResult::Create { .. } => op_code::CREATE,
            OpResult::Create2 { .. } => op_code::CREATE2,
            OpResult::Delete => op_code::DELETE,
            OpResult::SetData { .. } => op_code::SET_DATA,
            OpResult::Check => op_code::CHECK,
            OpResult::GetChildren { .. } => op_code::GET_CHILDREN,
            OpResult::GetData { .. } => op_code::GET_DATA,
            OpResult::Error { .. } => op_code::ERROR,
        }
    }
}

/// A multi or multiRead response body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiResponse {
    pub results: Vec<OpResult>,
}

impl Record for MultiResponse {
    fn serialize<W: Write>(&self, oa: &mut OutputArchive<W>) -> std::io::Result<()> {
        for result in &self.results {
            let err = match result {
                OpResult::Error { err } => *err,
                _ => 0,
            };
            MultiHeader {
                r#type: result.result_type(),
                done: false,
                err,
            }
            .serialize(oa)?;
            match result {
                OpResult::Create { path } => CreateResponse { path: path.clone() }.serialize(oa)?,
                OpResult::Create2 { path, stat } => Create2Response {
                    path: path.clone(),
                    stat: stat.clone(),
                }
                .serialize(oa)?,
                OpResult::SetData { stat } => {
                    SetDataResponse { stat: stat.clone() }.serialize(oa)?
                }
                OpResult::GetChildren { children } => GetChildrenResponse {
                    children: children.clone(),
                }
                .serialize(oa)?,
                OpResult::GetData { data, stat } => GetDataResponse {
                    data: data.clone(),
                    stat: stat.clone(),
                }
                .serialize(oa)?,
                OpResult::Error { err } => ErrorResponse { err: *err }.serialize(oa)?,
                OpResult::Delete | OpResult::Check => {}
            }
        }
        end_header().serialize(oa)
    }

    fn deserialize<R: Read>(ia: &mut InputArchive<R>) -> Result<Self> {
        let mut results = Vec::new();
        loop {
            let h = MultiHeader::deserialize(ia)?;
            if h.done {
                return Ok(MultiResponse { results });
            }
            results.push(match h.r#type {
                op_code::CREATE => OpResult::Create {
                    path: CreateResponse::deserialize(ia)?.path,
                },
                op_code::CREATE2 => {
                    let r = Create2Response::deserialize(ia)?;
                    OpResult::Create2 {
                        path: r.path,
                        stat: r.stat,
                    }
                }
                op_code::DELETE => OpResult::Delete,
                op_code::SET_DATA => OpResult::SetData {
                    stat: SetDataResponse::deserialize(ia)?.stat,
                },
                op_code::CHECK => OpResult::Check,
                op_code::GET_CHILDREN => OpResult::GetChildren {
                    children: GetChildrenResponse::deserialize(ia)?.children,
                },
                op_code::GET_DATA => {
                    let r = GetDataResponse::deserialize(ia)?;
                    OpResult::GetData {
                        data: r.data,
                        stat: r.stat,
                    }
                }
                op_code::ERROR => OpResult::Error {
                    err: ErrorResponse::deserialize(ia)?.err,
                },
                other => {
                    return Err(Error::Invalid(format!(
                        "Invalid type {} in MultiResponse",
                        other
                    )))
                }
            });
        }
    }
}
